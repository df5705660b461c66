package seed

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gosimple/slug"

	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/names"
	"github.com/neosc/neosc/internal/store"
)

// clock hands out deterministic UUIDv7 IDs and creation times: the n-th
// call is at base + n ms, and the ID carries that millisecond in its time
// field (so IDs sort in creation order, as ids.New's do) and random bits
// from a PCG seeded with Options.Seed.
type clock struct {
	base time.Time
	n    int64
	rng  *rand.Rand
}

func newClock(o Options) *clock {
	return &clock{base: o.Now.UTC().Truncate(time.Millisecond), rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x6e656f7363736565))}
}

// next returns a new ID and its creation time.
func (c *clock) next() (string, time.Time) {
	at := c.base.Add(time.Duration(c.n) * time.Millisecond)
	c.n++
	var u uuid.UUID
	ms := uint64(at.UnixMilli())
	binary.BigEndian.PutUint64(u[0:8], ms<<16|c.rng.Uint64()&0xffff)
	binary.BigEndian.PutUint64(u[8:16], c.rng.Uint64())
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // RFC 4122 variant
	return u.String(), at
}

type orgRow struct {
	id, name, slug                 string
	at                             time.Time
	users, workspaces              int
	cpu, mem, storage              int
	firstUser, firstWorkspace, nWs int // index ranges into plan.users / plan.workspaces
}

type userRow struct {
	id, email, name string
	org             int
	at              time.Time
}

type workspaceRow struct {
	id, name          string
	org               int
	typ, conn, status string
	cpu, mem, storage int
	at                time.Time
}

// plan is the data set in memory, minus the audit events (streamed).
type plan struct {
	o               Options
	clock           *clock
	defaultOrg      string
	orgs            []orgRow
	users           []userRow
	workspaces      []workspaceRow
	platformAdminID string
	platformAt      time.Time
}

// spread gives the big organization big of total, and the other n-1 an
// even share of the rest each (the first ones one more).
func spread(total, big, n int) []int {
	out := make([]int, n)
	out[0] = big
	if n > 1 {
		rest := total - big
		for i := 1; i < n; i++ {
			out[i] = rest / (n - 1)
			if i-1 < rest%(n-1) {
				out[i]++
			}
		}
	}
	return out
}

var workspaceKinds = []struct {
	typ  store.WorkspaceType
	conn store.ConnectionType
}{
	{store.WorkspaceLinux, store.ConnectionVNC}, {store.WorkspaceWindows, store.ConnectionRDP}, {store.WorkspaceBrowser, store.ConnectionBrowser},
	{store.WorkspaceDev, store.ConnectionWeb}, {store.WorkspaceLinux, store.ConnectionHTML5},
}

var workspaceStatuses = []store.WorkspaceStatus{store.WorkspaceAvailable, store.WorkspaceRunning, store.WorkspaceRunning, store.WorkspaceStopped}

// Sizes of a workspace: modest and within internal/workspaces' bounds.
var (
	cpuChoices     = []int{1, 2, 4, 8}
	memoryChoices  = []int{2048, 4096, 8192, 16384}
	storageChoices = []int{10, 20, 50, 100}
)

// newPlan lays the data set out: organizations first, then their users
// (organization by organization, the big one first, each one's first
// user its ADMIN), then their workspaces, then the platform administrator;
// the IDs are taken in that order.
func newPlan(o Options, defaultOrg string) *plan {
	p := &plan{o: o, clock: newClock(o), defaultOrg: defaultOrg}
	users := spread(o.Users, o.BigOrgUsers, o.Organizations)
	wss := spread(o.Workspaces, o.BigOrgWorkspaces, o.Organizations)
	p.orgs = make([]orgRow, o.Organizations)
	for i := range p.orgs {
		id, at := p.clock.next()
		name := fmt.Sprintf("Seed Organization %04d", i)
		if i == 0 {
			name = "Seed Big Organization"
		}
		p.orgs[i] = orgRow{id: id, name: name, slug: slug.Make(name), at: at, users: users[i], workspaces: wss[i]}
	}
	p.users = make([]userRow, 0, o.Users)
	for i := range p.orgs {
		p.orgs[i].firstUser = len(p.users)
		for range p.orgs[i].users {
			n := len(p.users)
			id, at := p.clock.next()
			p.users = append(p.users, userRow{id: id, org: i, at: at,
				email: fmt.Sprintf("user%06d@org%04d.seed.example.com", n, i), name: fmt.Sprintf("Seed User %06d", n)})
		}
	}
	p.workspaces = make([]workspaceRow, 0, o.Workspaces)
	for i := range p.orgs {
		org := &p.orgs[i]
		org.firstWorkspace, org.nWs = len(p.workspaces), org.workspaces
		for j := range org.workspaces {
			id, at := p.clock.next()
			k := workspaceKinds[p.clock.rng.IntN(len(workspaceKinds))]
			w := workspaceRow{id: id, org: i, at: at, name: fmt.Sprintf("workspace-%05d", j),
				typ: string(k.typ), conn: string(k.conn), status: string(workspaceStatuses[p.clock.rng.IntN(len(workspaceStatuses))]),
				cpu: cpuChoices[p.clock.rng.IntN(4)], mem: memoryChoices[p.clock.rng.IntN(4)], storage: storageChoices[p.clock.rng.IntN(4)]}
			org.cpu += w.cpu
			org.mem += w.mem
			org.storage += w.storage
			p.workspaces = append(p.workspaces, w)
		}
	}
	p.platformAdminID, p.platformAt = p.clock.next()
	return p
}

// write writes every table: organizations, users, workspaces and their
// usage rows, user-count events, the platform administrator, audit events.
func (p *plan) write(w *writer, hash string) error {
	for _, step := range []func(*writer, string) error{p.writeOrgs, p.writeUsers, p.writeWorkspaces, p.writeUserEvents, p.writePlatformAdmin, p.writeAuditEvents} {
		if err := step(w, hash); err != nil {
			return err
		}
	}
	return nil
}

func (p *plan) writeOrgs(w *writer, _ string) error {
	t := w.table("organizations", "id", "name", "name_key", "name_lower", "slug", "status", "user_count", "workspace_count",
		"kind", "cpu_cores", "memory_mb", "storage_gb", "created_at", "updated_at")
	for _, o := range p.orgs {
		if err := t.add(o.id, o.name, names.Skeleton(o.name), strings.ToLower(o.name), o.slug, string(store.OrganizationActive),
			o.users, o.workspaces, string(store.KindTenant), o.cpu, o.mem, o.storage, o.at, o.at); err != nil {
			return err
		}
	}
	return t.done()
}

func (p *plan) writeUsers(w *writer, hash string) error {
	t := w.table("users", userCols...)
	for i, u := range p.users {
		role := store.RoleMember
		if i == p.orgs[u.org].firstUser {
			role = store.RoleAdmin
		}
		if err := t.add(u.id, p.orgs[u.org].id, u.email, "", u.name, hash, string(role), false, string(store.UserActive), u.at, u.at, u.at); err != nil {
			return err
		}
	}
	return t.done()
}

var userCols = []string{"id", "organization_id", "email", "email_scope", "name", "password_hash", "role", "platform_admin", "status",
	"created_at", "updated_at", "email_verified_at"}

func (p *plan) writeWorkspaces(w *writer, _ string) error {
	t := w.table("workspaces", "id", "organization_id", "name", "description", "type", "connection_type", "status",
		"cpu_cores", "memory_mb", "storage_gb", "created_at", "updated_at")
	for _, ws := range p.workspaces {
		if err := t.add(ws.id, p.orgs[ws.org].id, ws.name, "", ws.typ, ws.conn, ws.status, ws.cpu, ws.mem, ws.storage, ws.at, ws.at); err != nil {
			return err
		}
	}
	if err := t.done(); err != nil {
		return err
	}
	// The open usage stretch internal/workspaces opens with every workspace.
	u := w.table("workspace_usage", "id", "organization_id", "workspace_id", "workspace_name", "status",
		"cpu_cores", "memory_mb", "storage_gb", "started_at", "ended_at")
	for _, ws := range p.workspaces {
		id, _ := p.clock.next()
		if err := u.add(id, p.orgs[ws.org].id, ws.id, ws.name, ws.status, ws.cpu, ws.mem, ws.storage, ws.at, store.OpenEnd); err != nil {
			return err
		}
	}
	return u.done()
}

// writeUserEvents writes one user-count change per organization with
// users, at its creation, as the migration that introduced the table did.
func (p *plan) writeUserEvents(w *writer, _ string) error {
	t := w.table("organization_user_events", "id", "organization_id", "delta", "created_at")
	for _, o := range p.orgs {
		if o.users == 0 {
			continue
		}
		id, _ := p.clock.next()
		if err := t.add(id, o.id, o.users, o.at); err != nil {
			return err
		}
	}
	return t.done()
}

// writePlatformAdmin writes what `neosc create-admin` writes: a MEMBER
// with platform_admin in the default organization, whose user_count it
// raises, with its user-count event and its user.registered event.
func (p *plan) writePlatformAdmin(w *writer, hash string) error {
	at := p.platformAt
	t := w.table("users", userCols...)
	if err := t.add(p.platformAdminID, p.defaultOrg, PlatformAdminEmail, "", "Seed Platform Administrator", hash,
		string(store.RoleMember), true, string(store.UserActive), at, at, at); err != nil {
		return err
	}
	if err := t.flush(); err != nil {
		return err
	}
	if err := w.execOne("UPDATE organizations SET user_count = user_count + 1, updated_at = ? WHERE id = ?", at, p.defaultOrg); err != nil {
		return err
	}
	evID, _ := p.clock.next()
	if err := w.execOne("INSERT INTO organization_user_events (id, organization_id, delta, created_at) VALUES (?, ?, 1, ?)", evID, p.defaultOrg, at); err != nil {
		return err
	}
	auditID, _ := p.clock.next()
	meta := `{"email":"` + PlatformAdminEmail + `","name":"Seed Platform Administrator","platformAdmin":true,"via":"seed"}`
	if err := w.execOne(`INSERT INTO audit_events (id, organization_id, action, outcome, actor_email, target_type, target_id,
		target_organization_id, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		auditID, p.defaultOrg, "user.registered", string(store.OutcomeSuccess), "cli:seed", string(ids.User), p.platformAdminID,
		p.defaultOrg, meta, at); err != nil {
		return err
	}
	if err := w.commit(); err != nil {
		return err
	}
	w.counts["users"]++
	w.counts["organization_user_events"]++
	w.counts["audit_events"]++
	return nil
}

// auditActions is the mix of audited actions: workspace.created and
// user.login make a third of it (S3's filter).
var auditActions = []string{
	"user.login", "user.login", "workspace.created", "workspace.created",
	"workspace.updated", "workspace.updated", "workspace.deleted", "user.role_changed",
	"api_token.created", "invitation.created", "organization.updated", "access.denied",
}

// writeAuditEvents writes o.AuditEvents events, one per millisecond after
// everything else: every other one in the big organization, the rest in an
// organization drawn at random; the actor a user of that organization.
func (p *plan) writeAuditEvents(w *writer, _ string) error {
	t := w.table("audit_events", "id", "organization_id", "action", "outcome", "actor_id", "actor_email", "actor_organization_id",
		"target_type", "target_id", "target_organization_id", "metadata", "ip_address", "user_agent", "created_at")
	rng := p.clock.rng
	for i := range p.o.AuditEvents {
		oi := 0
		if i%2 == 1 && len(p.orgs) > 1 {
			oi = 1 + rng.IntN(len(p.orgs)-1)
		}
		org := &p.orgs[oi]
		actor := &p.users[org.firstUser+rng.IntN(org.users)]
		action := auditActions[rng.IntN(len(auditActions))]
		outcome := string(store.OutcomeSuccess)
		targetType, targetID, meta := string(ids.User), actor.id, `{"method":"password"}`
		switch {
		case strings.HasPrefix(action, "workspace.") && org.nWs > 0:
			ws := &p.workspaces[org.firstWorkspace+rng.IntN(org.nWs)]
			targetType, targetID = string(ids.Workspace), ws.id
			meta = `{"name":"` + ws.name + `","type":"` + ws.typ + `"}`
		case strings.HasPrefix(action, "workspace."), action == "organization.updated":
			action, targetType, targetID, meta = "organization.updated", string(ids.Organization), org.id, `{"changes":{"name":{"from":"`+org.name+`","to":"`+org.name+`"}}}`
		case action == "access.denied":
			outcome, targetType, targetID, meta = string(store.OutcomeDenied), string(ids.Organization), org.id, `{"reason":"role"}`
		case action != "user.login":
			meta = `{"via":"seed"}`
		}
		id, at := p.clock.next()
		ip := "10." + strconv.Itoa(rng.IntN(256)) + "." + strconv.Itoa(rng.IntN(256)) + "." + strconv.Itoa(1+rng.IntN(254))
		if err := t.add(id, org.id, action, outcome, actor.id, actor.email, org.id, targetType, targetID, org.id, meta, ip,
			"neosc-seed/1", at); err != nil {
			return err
		}
	}
	return t.done()
}
