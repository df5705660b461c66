package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/usage"
)

// The streamed exports (issue 11): GET /usage/export (per-workspace usage
// as CSV, for billing systems) and GET /audit/export (the audit trail as
// NDJSON or CSV). Both are mounted behind the same authenticator and rate
// limit as /graphql, and decide through internal/authz exactly as the API
// does: organization=ID names an organization the caller must be ORG_ADMIN
// of (an API token of that organization needs READ_ORGANIZATION,
// respectively READ_AUDIT); another organization's ID answers 404
// NOT_FOUND like a random one and is audited as access.denied; a platform
// administrator passes, and may omit organization on /audit/export to
// export every organization's events and the platform events.
//
// Memory is constant: rows are written as the database cursor yields them
// (rows.Next), through a buffer flushed every exportFlushRows rows. Errors
// before the first byte answer the API's JSON error body with its status;
// an error after streaming began ends the response early (the client sees
// a truncated body without the final newline of a complete export).

const (
	// exportCost is what an export charges the caller's rate-limit budget,
	// in points (a GraphQL operation of complexity 1000).
	exportCost = 10
	// exportTimeout bounds one export; exports outlive the request deadline
	// (NEOSC_REQUEST_TIMEOUT) and the server's write timeout.
	exportTimeout = 30 * time.Minute
	// exportFlushRows is how many rows are buffered between flushes.
	exportFlushRows = 500
)

// exporter serves the exports.
type exporter struct {
	st    *store.Store
	z     *authz.Authorizer
	usage *usage.Service
	log   *slog.Logger
}

// Unwrap lets http.ResponseController reach the connection's writer
// (Flush, SetWriteDeadline) through the access log's recorder.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// usageExport streams GET /usage/export?organization=ID&since=…&until=….
func (e *exporter) usageExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !e.admit(w, r, store.ScopeReadOrganization) {
		return
	}
	q := r.URL.Query()
	since, until, err := window(q.Get("since"), q.Get("until"), true)
	if err == nil {
		err = usage.Window(since, until)
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	orgID, err := e.organization(ctx, q.Get("organization"), false)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	out := e.stream(w, r, "text/csv; charset=utf-8", "usage.csv")
	cw := csv.NewWriter(out)
	_ = cw.Write([]string{"organization_id", "workspace_id", "workspace_name", "since", "until",
		"workspace_hours", "cpu_core_hours", "memory_gb_hours", "storage_gb_hours"})
	orgGlobal := ids.Encode(ids.Organization, orgID)
	s, u := since.UTC().Format(time.RFC3339Nano), until.UTC().Format(time.RFC3339Nano)
	n := 0
	sctx, cancel := streamContext(r)
	defer cancel()
	err = e.usage.Lines(sctx, orgID, since, until, func(l *usage.Line) error {
		_ = cw.Write([]string{orgGlobal, ids.Encode(ids.Workspace, l.WorkspaceID), l.WorkspaceName, s, u,
			num(l.WorkspaceHours), num(l.CPUCoreHours), num(l.MemoryGBHours), num(l.StorageGBHours)})
		return out.row(&n, cw.Flush, cw.Error)
	})
	cw.Flush()
	out.end(ctx, e.log, err, cw.Error())
}

// auditExport streams GET /audit/export?organization=ID&since=…&until=…&format=ndjson|csv.
func (e *exporter) auditExport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !e.admit(w, r, store.ScopeReadAudit) {
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "ndjson"
	}
	since, until, err := window(q.Get("since"), q.Get("until"), false)
	if err == nil && format != "ndjson" && format != "csv" {
		err = apperr.Invalid("format", "format must be ndjson or csv")
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if until.IsZero() {
		until = time.Now().UTC().Add(time.Second) // everything recorded so far
	}
	orgID, err := e.organization(ctx, q.Get("organization"), true)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	if err := e.recordExport(ctx, orgID, since, until, format); err != nil {
		e.fail(w, r, err)
		return
	}
	win := store.ExportWindow{OrganizationID: orgID, Since: since, Until: until}
	if format == "csv" {
		e.auditCSV(w, r, win)
		return
	}
	out := e.stream(w, r, "application/x-ndjson", "audit.ndjson")
	enc := json.NewEncoder(out)
	n := 0
	sctx, cancel := streamContext(r)
	defer cancel()
	err = e.st.AuditEvents.Each(sctx, win, func(ev *store.AuditEvent) error {
		if err := enc.Encode(exportedEvent(ev)); err != nil {
			return err
		}
		return out.row(&n, nil, nil)
	})
	out.end(ctx, e.log, err, nil)
}

func (e *exporter) auditCSV(w http.ResponseWriter, r *http.Request, win store.ExportWindow) {
	out := e.stream(w, r, "text/csv; charset=utf-8", "audit.csv")
	cw := csv.NewWriter(out)
	_ = cw.Write([]string{"id", "created_at", "organization_id", "action", "outcome", "actor_id", "actor_email",
		"actor_organization_id", "target_type", "target_id", "target_organization_id", "ip_address", "user_agent",
		"request_id", "metadata"})
	n := 0
	sctx, cancel := streamContext(r)
	defer cancel()
	err := e.st.AuditEvents.Each(sctx, win, func(ev *store.AuditEvent) error {
		x := exportedEvent(ev)
		meta, err := json.Marshal(x.Metadata)
		if err != nil {
			return err
		}
		_ = cw.Write([]string{x.ID, x.CreatedAt, str(x.OrganizationID), x.Action, x.Outcome, str(x.ActorID), str(x.ActorEmail),
			str(x.ActorOrganizationID), str(x.TargetType), str(x.TargetID), str(x.TargetOrganizationID), str(x.IPAddress),
			str(x.UserAgent), str(x.RequestID), string(meta)})
		return out.row(&n, cw.Flush, cw.Error)
	})
	cw.Flush()
	out.end(r.Context(), e.log, err, cw.Error())
}

// admit checks what needs no object: a caller, and an API token's scope.
// It also charges the export to the caller's budget.
func (e *exporter) admit(w http.ResponseWriter, r *http.Request, scope store.APIScope) bool {
	actor := auth.ActorFrom(r.Context())
	switch {
	case actor == nil:
		writeError(w, r, http.StatusUnauthorized, apperr.ErrUnauthenticated)
		return false
	case actor.IsAPIToken() && !actor.HasAnyScope([]store.APIScope{scope}):
		writeError(w, r, http.StatusForbidden, apperr.New(apperr.Forbidden, "this API token lacks the %s scope", scope))
		return false
	}
	if req := ratelimit.RequestFrom(r.Context()); req != nil {
		if err := req.Charge(exportCost); err != nil {
			setRateLimitHeaders(w.Header(), req)
			e.fail(w, r, err)
			return false
		}
		setRateLimitHeaders(w.Header(), req)
	}
	return true
}

// organization authorizes the caller on the organization named by its
// global ID (ORG_ADMIN; platform administrators pass) through
// internal/authz, which answers NOT_FOUND for another organization's ID
// and records access.denied. With no ID, allowAll lets a platform
// administrator read every organization ("" answered); others are refused.
func (e *exporter) organization(ctx context.Context, globalID string, allowAll bool) (string, error) {
	if globalID == "" {
		if !allowAll {
			return "", apperr.Invalid("organization", "organization is required")
		}
		if _, err := e.z.Own(ctx, authz.PlatformAdmin); err != nil {
			return "", apperr.Wrap(err, apperr.BadUserInput, "organization is required (only a platform administrator may export every organization)")
		}
		return "", nil
	}
	org, err := authz.Fetch[*store.Organization](ctx, e.z, e.st, globalID, authz.OrgAdmin)
	if err != nil {
		return "", err
	}
	return org.ID, nil
}

// recordExport records audit.exported and commits it before any row is
// sent: an export that was served is always in the trail.
func (e *exporter) recordExport(ctx context.Context, orgID string, since, until time.Time, format string) error {
	meta := map[string]any{"since": since.UTC().Format(time.RFC3339Nano), "until": until.UTC().Format(time.RFC3339Nano), "format": format}
	ev := audit.Event{Action: audit.AuditExported, OrganizationID: orgID, Actor: audit.ActorOf(auth.ActorFrom(ctx)), Metadata: meta}
	if orgID != "" {
		ev.TargetType, ev.TargetID, ev.TargetOrgID = ids.Organization, orgID, orgID
	}
	return e.st.Tx(ctx, func(tx *store.Store) error { return audit.Record(ctx, tx, ev) })
}

// fail answers err as the API's JSON error body, with the status its code
// has over HTTP.
func (e *exporter) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae, ok := apperr.As(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			ae = apperr.ErrUnavailable
		} else {
			e.log.ErrorContext(r.Context(), "export failed", "err", err)
			ae = apperr.New(apperr.Internal, internalMessage)
		}
	}
	writeError(w, r, httpStatus(ae.Code), ae)
}

// httpStatus is the status an error code answers outside GraphQL.
func httpStatus(c apperr.Code) int {
	switch c {
	case apperr.Unauthenticated:
		return http.StatusUnauthorized
	case apperr.Forbidden, apperr.OrganizationSuspended:
		return http.StatusForbidden
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.BadUserInput:
		return http.StatusBadRequest
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// window parses since and until (RFC 3339). With required, both must be
// given; otherwise a missing since is the beginning and a missing until is
// zero (the caller picks now). since must be before until.
func window(sinceArg, untilArg string, required bool) (since, until time.Time, err error) {
	parse := func(field, v string) (time.Time, error) {
		if v == "" {
			if required {
				return time.Time{}, apperr.Invalid(field, "%s is required (RFC 3339, e.g. 2026-01-01T00:00:00Z)", field)
			}
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, apperr.Invalid(field, "%s must be an RFC 3339 time, e.g. 2026-01-01T00:00:00Z", field)
		}
		return t.UTC(), nil
	}
	if since, err = parse("since", sinceArg); err != nil {
		return
	}
	if until, err = parse("until", untilArg); err != nil {
		return
	}
	if !until.IsZero() && !since.Before(until) {
		err = apperr.Invalid("until", "until must be after since")
	}
	return
}

// streamContext is the context of the database reads of an export: the
// request's values without its deadline (an export may take longer than
// NEOSC_REQUEST_TIMEOUT), bounded by exportTimeout. A client that goes
// away ends the export at the next write, which fails.
func streamContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), exportTimeout)
	stop := context.AfterFunc(r.Context(), func() {
		// The request's own context ends on its deadline or when the
		// client disconnects; only the latter stops the export.
		if errors.Is(context.Cause(r.Context()), context.Canceled) {
			cancel()
		}
	})
	return ctx, func() { stop(); cancel() }
}

// streamOut is the buffered body of an export.
type streamOut struct {
	*bufio.Writer
	rc *http.ResponseController
}

// stream starts the response: headers, status 200, no write deadline.
func (e *exporter) stream(w http.ResponseWriter, _ *http.Request, contentType, filename string) *streamOut {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(exportTimeout))
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	return &streamOut{Writer: bufio.NewWriterSize(w, 32<<10), rc: rc}
}

// row counts a written row and flushes every exportFlushRows rows (first
// the CSV writer, when given, into the buffer; then the buffer to the
// client). A failed write (the client went away) stops the export.
func (o *streamOut) row(n *int, flush func(), failed func() error) error {
	*n++
	if *n%exportFlushRows != 0 {
		return nil
	}
	if flush != nil {
		flush()
		if err := failed(); err != nil {
			return err
		}
	}
	if err := o.Flush(); err != nil {
		return err
	}
	return o.rc.Flush()
}

// end flushes what is left; a failure is logged (the status is sent).
func (o *streamOut) end(ctx context.Context, log *slog.Logger, errs ...error) {
	if err := errors.Join(append(errs, o.Flush())...); err != nil {
		log.WarnContext(ctx, "export ended early", "err", err)
		return
	}
	_ = o.rc.Flush()
}

// exported is an audit event as the exports write it: the fields of the
// GraphQL AuditEvent, IDs global, times RFC 3339 (UTC, microseconds).
type exported struct {
	ID                   string     `json:"id"`
	CreatedAt            string     `json:"createdAt"`
	OrganizationID       *string    `json:"organizationId"`
	Action               string     `json:"action"`
	Outcome              string     `json:"outcome"`
	ActorID              *string    `json:"actorId"`
	ActorEmail           *string    `json:"actorEmail"`
	ActorOrganizationID  *string    `json:"actorOrganizationId"`
	TargetType           *string    `json:"targetType"`
	TargetID             *string    `json:"targetId"`
	TargetOrganizationID *string    `json:"targetOrganizationId"`
	Metadata             store.JSON `json:"metadata"`
	IPAddress            *string    `json:"ipAddress"`
	UserAgent            *string    `json:"userAgent"`
	RequestID            *string    `json:"requestId"`
}

func exportedEvent(ev *store.AuditEvent) exported {
	meta := ev.Metadata
	if meta == nil {
		meta = store.JSON{}
	}
	return exported{
		ID: ev.GlobalID(), CreatedAt: ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		OrganizationID: ids.EncodePtr(ids.Organization, ev.OrganizationID), Action: ev.Action, Outcome: string(ev.Outcome),
		ActorID: ev.ActorGlobalID(), ActorEmail: ev.ActorEmail, ActorOrganizationID: ev.ActorOrganizationGlobalID(),
		TargetType: ev.TargetType, TargetID: ev.TargetGlobalID(), TargetOrganizationID: ev.TargetOrganizationGlobalID(),
		Metadata: meta, IPAddress: ev.IPAddress, UserAgent: ev.UserAgent, RequestID: ev.RequestID,
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// num writes hours exactly as computed (shortest round-trip decimal).
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
