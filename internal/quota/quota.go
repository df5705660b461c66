// Package quota holds organizations to their limits: users, workspaces and
// the CPU cores, memory and storage of their workspaces.
//
// Rules:
//   - Every change that adds to an organization's usage goes through Add
//     (or AddUsers) inside the change's own transaction: the organization row
//     is locked first (the lock order of every writer: organization, then its
//     children), the limits are checked against the locked counters, and the
//     counters move in the same transaction. Replicas share nothing but the
//     database, so the row lock is what makes a limit exact across them.
//   - A refusal is QUOTA_EXCEEDED, the caller's transaction rolls back
//     (nothing written), and a quota.exceeded event (outcome DENIED) naming
//     the dimension, the limit, the usage and the amount requested is
//     recorded after the rollback in a transaction of its own.
//   - Decreases are never refused; a limit may be set below the usage: the
//     excess stays, further additions are refused.
//   - A limit is nil (unlimited) or a non-negative number.
package quota

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// The dimensions, named as in the API (Usage's fields; Quota's without
// "max") and in NEOSC_DEFAULT_QUOTA.
const (
	Users      = "users"
	Workspaces = "workspaces"
	CPUCores   = "cpuCores"
	MemoryMB   = "memoryMb"
	StorageGB  = "storageGb"
)

// Dimensions lists the dimensions in a fixed order.
var Dimensions = []string{Users, Workspaces, CPUCores, MemoryMB, StorageGB}

// limit returns q's limit of dimension dim (nil: unlimited).
func limit(q *store.Quota, dim string) **int {
	switch dim {
	case Users:
		return &q.MaxUsers
	case Workspaces:
		return &q.MaxWorkspaces
	case CPUCores:
		return &q.MaxCPUCores
	case MemoryMB:
		return &q.MaxMemoryMB
	case StorageGB:
		return &q.MaxStorageGB
	}
	panic("quota: unknown dimension " + dim)
}

// amounts returns u's change, usage or request of each dimension.
func amounts(u store.Usage) map[string]int {
	return map[string]int{Users: u.Users, Workspaces: u.Workspaces, CPUCores: u.CPUCores, MemoryMB: u.MemoryMB, StorageGB: u.StorageGB}
}

// Parse reads a quota written as NEOSC_DEFAULT_QUOTA is:
// "workspaces=10,cpuCores=32" (keys users, workspaces, cpuCores, memoryMb,
// storageGb; each at most once; values whole numbers >= 0). "" is no limit.
func Parse(s string) (store.Quota, error) {
	var q store.Quota
	s = strings.TrimSpace(s)
	if s == "" {
		return q, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || key == "" {
			return q, fmt.Errorf("%q is not key=value (keys: %s)", part, strings.Join(Dimensions, ", "))
		}
		known := false
		for _, d := range Dimensions {
			known = known || d == key
		}
		if !known {
			return q, fmt.Errorf("unknown key %q (keys: %s)", key, strings.Join(Dimensions, ", "))
		}
		if seen[key] {
			return q, fmt.Errorf("key %q given twice", key)
		}
		seen[key] = true
		n, err := strconv.ParseInt(val, 10, 32)
		if err != nil || n < 0 {
			return q, fmt.Errorf("%s=%q is not a whole number from 0 to 2147483647", key, val)
		}
		v := int(n)
		*limit(&q, key) = &v
	}
	return q, nil
}

// Copy returns q with limits of its own (no pointer shared with q).
func Copy(q store.Quota) store.Quota {
	var out store.Quota
	for _, d := range Dimensions {
		if v := *limit(&q, d); v != nil {
			n := *v
			*limit(&out, d) = &n
		}
	}
	return out
}

// ApplyDefault gives org, a new organization not yet inserted, the default
// quota def (NEOSC_DEFAULT_QUOTA): every path that creates an organization
// calls it (registration, SSO provisioning, createOrganization).
func ApplyDefault(org *store.Organization, def store.Quota) {
	org.Quota = Copy(def)
}

// Validate refuses a negative limit, naming the input field (maxUsers, ...).
func Validate(q store.Quota) error {
	for _, d := range Dimensions {
		if v := *limit(&q, d); v != nil && *v < 0 {
			field := "max" + strings.ToUpper(d[:1]) + d[1:]
			return apperr.Invalid(field, "%s must be 0 or more, or null for unlimited", field)
		}
	}
	return nil
}

// Map is q as audit metadata: each limit by its API name, null when
// unlimited.
func Map(q store.Quota) map[string]any {
	m := map[string]any{}
	for _, d := range Dimensions {
		field := "max" + strings.ToUpper(d[:1]) + d[1:]
		if v := *limit(&q, d); v != nil {
			m[field] = *v
		} else {
			m[field] = nil
		}
	}
	return m
}

// Refusal is why an addition was refused: the first dimension it would take
// past its limit.
type Refusal struct {
	Dimension string
	Limit     int
	Usage     int
	Requested int
}

// Check reports the first dimension that d would take past org's limit;
// nil when d fits. Only increases are checked: a decrease always fits, and
// a dimension already over a lowered limit refuses only more of itself.
func Check(org *store.Organization, d store.Usage) *Refusal {
	use, add := amounts(org.Usage()), amounts(d)
	for _, dim := range Dimensions {
		lim := *limit(&org.Quota, dim)
		if add[dim] > 0 && lim != nil && use[dim]+add[dim] > *lim {
			return &Refusal{Dimension: dim, Limit: *lim, Usage: use[dim], Requested: add[dim]}
		}
	}
	return nil
}

// Add locks organization orgID (first: the lock order), checks d against
// its limits and moves its counters by d, all in tx, the caller's
// transaction; it answers the organization as changed. Past a limit it
// answers QUOTA_EXCEEDED and records quota.exceeded, by actor, once tx has
// rolled back.
func Add(ctx context.Context, tx *store.Store, orgID string, d store.Usage, actor audit.Actor) (*store.Organization, error) {
	org, err := tx.Organizations.Lock(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if r := Check(org, d); r != nil {
		tx.AfterTx(func() { recordExceeded(ctx, tx.Detached(), org, r, actor) })
		return nil, apperr.New(apperr.QuotaExceeded,
			"the organization's quota of %s is %d: %d in use, %d more requested", r.Dimension, r.Limit, r.Usage, r.Requested)
	}
	if err := tx.Organizations.AddUsage(ctx, orgID, d); err != nil {
		return nil, err
	}
	org.UserCount += d.Users
	org.WorkspaceCount += d.Workspaces
	org.CPUCores += d.CPUCores
	org.MemoryMB += d.MemoryMB
	org.StorageGB += d.StorageGB
	return org, nil
}

// AddUsers is Add of n users, by the request's caller: for every path that
// adds or brings back users (reactivateUser included), inside its
// transaction, before it writes the user.
func AddUsers(ctx context.Context, tx *store.Store, orgID string, n int) error {
	_, err := Add(ctx, tx, orgID, store.Usage{Users: n}, audit.ActorOf(auth.ActorFrom(ctx)))
	return err
}

// Resources is the usage a workspace holds.
func Resources(w *store.Workspace) store.Usage {
	return store.Usage{Workspaces: 1, CPUCores: w.CPUCores, MemoryMB: w.MemoryMB, StorageGB: w.StorageGB}
}

// Resize is the change of usage from workspace before to after (the same
// workspace: no change of the workspace count).
func Resize(before, after *store.Workspace) store.Usage {
	return store.Usage{CPUCores: after.CPUCores - before.CPUCores, MemoryMB: after.MemoryMB - before.MemoryMB,
		StorageGB: after.StorageGB - before.StorageGB}
}

// Negate is u with its sign turned (a removal).
func Negate(u store.Usage) store.Usage {
	return store.Usage{Users: -u.Users, Workspaces: -u.Workspaces, CPUCores: -u.CPUCores, MemoryMB: -u.MemoryMB, StorageGB: -u.StorageGB}
}

// recordExceeded writes quota.exceeded into org's trail in a transaction of
// its own (the refused change's has rolled back), even if the request has
// been cancelled meanwhile.
func recordExceeded(ctx context.Context, st *store.Store, org *store.Organization, r *Refusal, actor audit.Actor) {
	ctx = context.WithoutCancel(ctx)
	e := audit.Event{
		Action: audit.QuotaExceeded, Outcome: store.OutcomeDenied, OrganizationID: org.ID, Actor: actor,
		TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID,
		Metadata: map[string]any{"dimension": r.Dimension, "limit": r.Limit, "usage": r.Usage, "requested": r.Requested},
	}
	err := st.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.Organizations.GetByID(ctx, org.ID); errors.Is(err, apperr.ErrNotFound) {
			// The organization was being created by the refused change
			// (a default quota of no users): a platform event, naming it.
			e.OrganizationID, e.TargetID, e.TargetOrgID = "", "", ""
			e.Metadata["organization"] = org.Name
		} else if err != nil {
			return err
		}
		return audit.Record(ctx, tx, e)
	})
	if err != nil {
		slog.Default().ErrorContext(ctx, "record quota.exceeded", "err", err)
	}
}
