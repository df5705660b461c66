package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/server"
	"github.com/neosc/neosc/internal/store"
)

// Raw is the raw baseline: the same work as the service for the harness's
// scenarios, written by hand on net/http, database/sql and encoding/json.
// It verifies the same JWT with jwx (issuer, audience, exp, signature by
// kid), loads the caller's user and organization with the service's own
// statement (store.Users.GetActor's), checks what the service checks, runs
// the service's statements for the scenario and writes the same bytes.
// The scenario comes from the X-Bench-Scenario header.
//
// What it leaves out: the rate limiter's bookkeeping (extensions.rateLimit
// is written, but remaining is the limit less this request's cost and
// resetAt is now; the harness masks both when it compares bodies), the
// access log line, and GraphQL parsing and validation, which a
// hand-written endpoint has no use for.
type Raw struct {
	DB     *sql.DB
	Engine db.Engine
	Keys   jwk.Set // the public keys tokens are verified with
	Issuer string  // the service's NEOSC_PUBLIC_URL
	// Limit and Period are the caller's rate limit (NEOSC_RATE_LIMIT_TOKEN),
	// for extensions.rateLimit and the RateLimit headers.
	Limit  int
	Period time.Duration
}

// The service's statements (captured from its statement log; the raw
// baseline runs exactly these).
const (
	actorSQL = `SELECT u.id AS u_id, u.organization_id AS u_organization_id, u.email AS u_email, u.email_scope AS u_email_scope, u.name AS u_name, u.password_hash AS u_password_hash, u.role AS u_role, u.platform_admin AS u_platform_admin, u.status AS u_status, u.sso_issuer AS u_sso_issuer, u.sso_subject AS u_sso_subject, u.created_at AS u_created_at, u.updated_at AS u_updated_at, u.last_login_at AS u_last_login_at, u.email_verified_at AS u_email_verified_at, u.sessions_valid_after AS u_sessions_valid_after, o.id AS o_id, o.name AS o_name, o.name_key AS o_name_key, o.name_lower AS o_name_lower, o.slug AS o_slug, o.domain AS o_domain, o.status AS o_status, o.external_issuer AS o_external_issuer, o.external_id AS o_external_id, o.user_count AS o_user_count, o.workspace_count AS o_workspace_count, o.kind AS o_kind, o.created_at AS o_created_at, o.updated_at AS o_updated_at, o.max_users AS o_max_users, o.max_workspaces AS o_max_workspaces, o.max_cpu_cores AS o_max_cpu_cores, o.max_memory_mb AS o_max_memory_mb, o.max_storage_gb AS o_max_storage_gb, o.cpu_cores AS o_cpu_cores, o.memory_mb AS o_memory_mb, o.storage_gb AS o_storage_gb, COALESCE(rc.tat, 0) AS b_caller, COALESCE(ro.tat, 0) AS b_organization, COALESCE(p.require_sso, FALSE) AS p_require_sso, COALESCE(p.allowed_ip_ranges, '') AS p_allowed_ip_ranges, p.session_ttl_minutes AS p_session_ttl_minutes,
		EXISTS (SELECT 1 FROM revoked_sessions r WHERE r.jti = ?) AS signed_out
		FROM users u JOIN organizations o ON o.id = u.organization_id LEFT JOIN organization_policies p ON p.organization_id = o.id
		LEFT JOIN rate_limits rc ON rc.scope = 'user' AND rc.subject = u.id
		LEFT JOIN rate_limits ro ON ro.scope = 'org' AND ro.subject = o.id
		WHERE u.id = ?`
	orgColumns  = "id, name, name_key, name_lower, slug, domain, status, external_issuer, external_id, user_count, workspace_count, kind, created_at, updated_at, max_users, max_workspaces, max_cpu_cores, max_memory_mb, max_storage_gb, cpu_cores, memory_mb, storage_gb"
	orgPageSQL  = "SELECT " + orgColumns + " FROM `organizations` ORDER BY id ASC LIMIT ?"
	orgCountSQL = store.CountOrganizationsSQL
	orgByIDSQL  = "SELECT " + orgColumns + " FROM `organizations` WHERE id = ? LIMIT ?"
	userColumns = "id, organization_id, email, email_scope, name, password_hash, role, platform_admin, status, sso_issuer, sso_subject, created_at, updated_at, last_login_at, email_verified_at, sessions_valid_after"
	// %s: the table, with MySQL's index hint (Raw.table).
	usersSQL      = "SELECT " + userColumns + " FROM %s WHERE organization_id = ? ORDER BY id ASC LIMIT ?"
	usersAfterSQL = "SELECT " + userColumns + " FROM %s WHERE organization_id = ? AND id > ? ORDER BY id ASC LIMIT ?"
	// Neither metadata nor the request details are read: the page selects none of them.
	auditSQL       = "SELECT id, organization_id, action, outcome, actor_id, actor_email, actor_organization_id, target_type, target_id, target_organization_id, created_at FROM %s WHERE organization_id = ? AND action IN (?,?) ORDER BY id DESC LIMIT ?"
	orgLockSQL     = "SELECT " + orgColumns + " FROM `organizations` WHERE id = ? LIMIT ? FOR UPDATE"
	orgAddSQL      = "UPDATE `organizations` SET `cpu_cores`=cpu_cores + ?,`memory_mb`=memory_mb + ?,`storage_gb`=storage_gb + ?,`workspace_count`=workspace_count + ? WHERE id = ?"
	insertWsSQL    = "INSERT INTO `workspaces` (`id`,`organization_id`,`name`,`description`,`type`,`connection_type`,`status`,`image_url`,`url`,`cpu_cores`,`memory_mb`,`storage_gb`,`created_at`,`updated_at`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	insertUsageSQL = "INSERT INTO `workspace_usage` (`id`,`organization_id`,`workspace_id`,`workspace_name`,`status`,`cpu_cores`,`memory_mb`,`storage_gb`,`started_at`,`ended_at`) VALUES (?,?,?,?,?,?,?,?,?,?)"
	insertAuditSQL = "INSERT INTO `audit_events` (`id`,`organization_id`,`action`,`outcome`,`actor_id`,`actor_email`,`actor_organization_id`,`target_type`,`target_id`,`target_organization_id`,`metadata`,`ip_address`,`user_agent`,`request_id`,`created_at`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)

// complexity is what the service's complexity limit computes for each
// scenario's document (extensions.cost.requested).
var complexity = map[string]int{S1: 252, S2a: 356, S2b: 356, S3: 805, S4: 3}

// actor is the caller as the raw baseline reads it.
type actor struct {
	userID, orgID, email, role, status, orgStatus string
	platformAdmin, signedOut, requireSSO          bool
	validAfter                                    sql.NullTime
	ipRanges                                      string
}

var errUnauthenticated = errors.New("authentication required or invalid")

func (h *Raw) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	reqID := uuid.Must(uuid.NewV7()).String()
	hd := w.Header()
	hd.Set("X-Request-Id", reqID)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Origin")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, server.MaxBodyBytes))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	var req struct {
		Query     string `json:"query"`
		Variables struct {
			ID    string `json:"id"`
			After string `json:"after"`
			In    struct {
				Name           string `json:"name"`
				Type           string `json:"type"`
				ConnectionType string `json:"connectionType"`
				CPUCores       int    `json:"cpuCores"`
				MemoryMB       int    `json:"memoryMb"`
				StorageGB      int    `json:"storageGb"`
			} `json:"in"`
		} `json:"variables"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	a, claims, err := h.authenticate(ctx, r)
	if err != nil {
		h.unauthenticated(w, reqID)
		return
	}
	scn := r.Header.Get(ScenarioHeader)
	var data any
	switch scn {
	case S1:
		data, err = h.organizations(ctx, a)
	case S2a, S2b:
		data, err = h.users(ctx, a, req.Variables.ID, req.Variables.After)
	case S3:
		data, err = h.auditEvents(ctx, a, req.Variables.ID)
	case S4:
		in := req.Variables.In
		data, err = h.createWorkspace(ctx, a, r, reqID, store.Workspace{Name: in.Name, Type: store.WorkspaceType(in.Type),
			ConnectionType: store.ConnectionType(in.ConnectionType), CPUCores: in.CPUCores, MemoryMB: in.MemoryMB, StorageGB: in.StorageGB})
	default:
		http.Error(w, "unknown scenario "+strconv.Quote(scn), http.StatusBadRequest)
		return
	}
	_ = claims
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	requested := complexity[scn]
	cost := ratelimit.Points(requested)
	remaining := h.Limit - cost
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("RateLimit-Limit", strconv.Itoa(h.Limit))
	hd.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	hd.Set("RateLimit-Reset", "1")
	hd.Set("RateLimit-Policy", strconv.Itoa(h.Limit)+";w="+strconv.FormatInt(int64(h.Period/time.Second), 10))
	out, err := json.Marshal(envelope{Data: data, Extensions: extensions{
		Cost:      costExt{Limit: server.MaxComplexity, Requested: requested},
		RateLimit: &rateLimitExt{Cost: cost, Limit: h.Limit, Remaining: remaining, ResetAt: time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)},
	}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(out)
}

type envelope struct {
	Data       any        `json:"data"`
	Extensions extensions `json:"extensions"`
}

type extensions struct {
	Cost      costExt       `json:"cost"`
	RateLimit *rateLimitExt `json:"rateLimit,omitempty"`
}

type costExt struct {
	Limit     int `json:"limit"`
	Requested int `json:"requested"`
}

type rateLimitExt struct {
	Cost      int    `json:"cost"`
	Limit     int    `json:"limit"`
	Remaining int    `json:"remaining"`
	ResetAt   string `json:"resetAt"`
}

// unauthenticated writes the service's 401 (server.writeError's body and
// headers).
func (h *Raw) unauthenticated(w http.ResponseWriter, reqID string) {
	type errExt struct {
		Code      string `json:"code"`
		RequestID string `json:"requestId"`
	}
	type gqlErr struct {
		Extensions errExt `json:"extensions"`
		Message    string `json:"message"`
	}
	hd := w.Header()
	hd.Set("Www-Authenticate", `Bearer error="invalid_token"`)
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(struct {
		Errors     []gqlErr   `json:"errors"`
		Extensions extensions `json:"extensions"`
	}{
		Errors:     []gqlErr{{Extensions: errExt{Code: "UNAUTHENTICATED", RequestID: reqID}, Message: errUnauthenticated.Error()}},
		Extensions: extensions{Cost: costExt{Limit: server.MaxComplexity}},
	})
}

// authenticate verifies the Bearer token as auth.Tokens.Verify does and
// loads the caller as auth.Authenticator does (one statement).
func (h *Raw) authenticate(ctx context.Context, r *http.Request) (*actor, jwt.Token, error) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.Count(raw, ".") != 2 {
		return nil, nil, errUnauthenticated
	}
	tok, err := jwt.ParseString(raw, jwt.WithKeySet(h.Keys), jwt.WithValidate(true), jwt.WithIssuer(h.Issuer),
		jwt.WithAudience(auth.Audience), jwt.WithRequiredClaim("exp"), jwt.WithRequiredClaim("sub"), jwt.WithAcceptableSkew(auth.ClockSkew))
	if err != nil {
		return nil, nil, errUnauthenticated
	}
	userID, ok := ids.Decode(ids.User, tok.Subject())
	if !ok {
		return nil, nil, errUnauthenticated
	}
	orgClaim, _ := tok.Get("org")
	orgStr, _ := orgClaim.(string)
	orgID, ok := ids.Decode(ids.Organization, orgStr)
	if !ok {
		return nil, nil, errUnauthenticated
	}
	rows, err := h.DB.QueryContext(ctx, actorSQL, tok.JwtID(), userID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, nil, errUnauthenticated
	}
	var (
		a    actor
		sink sql.RawBytes
		ttl  sql.NullInt64
		tats [2]int64
	)
	// The columns of actorSQL in order; the ones the checks need are read
	// into typed fields, the others scanned as bytes.
	dest := []any{&a.userID, &a.orgID, &a.email, &sink, &sink, &sink, &a.role, &a.platformAdmin, &a.status, &sink, &sink, &sink, &sink, &sink, &sink, &a.validAfter,
		&sink, &sink, &sink, &sink, &sink, &sink, &a.orgStatus, &sink, &sink, &sink, &sink, &sink, &sink, &sink, &sink, &sink, &sink, &sink, &sink, &sink, &sink, &sink,
		&tats[0], &tats[1], &a.requireSSO, &a.ipRanges, &ttl, &a.signedOut}
	if err := rows.Scan(dest...); err != nil {
		return nil, nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if a.orgID != orgID || a.signedOut || a.status != string(store.UserActive) || a.orgStatus != string(store.OrganizationActive) ||
		(a.validAfter.Valid && tok.IssuedAt().Before(a.validAfter.Time)) || a.requireSSO || a.ipRanges != "" {
		return nil, nil, errUnauthenticated
	}
	return &a, tok, nil
}

// table is a page query's table as the service names it: with the index
// it must seek on, on MySQL (internal/store seek, docs/query-plans.md).
func (h *Raw) table(name, index string) string {
	if h.Engine == db.MySQL {
		return name + " FORCE INDEX (" + index + ")"
	}
	return "`" + name + "`"
}

// columnsInto scans the current row of rows into the named destinations,
// every other column into a sink: how hand-written code reads SELECT *.
func columnsInto(rows *sql.Rows, want map[string]any) ([]any, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	dest := make([]any, len(cols))
	for i, c := range cols {
		if d, ok := want[c]; ok {
			dest[i] = d
		} else {
			dest[i] = new(sql.RawBytes)
		}
	}
	return dest, nil
}

type orgNode struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	UserCount      int    `json:"userCount"`
	WorkspaceCount int    `json:"workspaceCount"`
}

func (h *Raw) organizations(ctx context.Context, a *actor) (any, error) {
	if !a.platformAdmin {
		return nil, errors.New("not a platform administrator")
	}
	rows, err := h.DB.QueryContext(ctx, orgPageSQL, 51)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		n     orgNode
		nodes = make([]orgNode, 0, 51)
		dest  []any
	)
	for rows.Next() {
		if dest == nil {
			if dest, err = columnsInto(rows, map[string]any{"id": &n.ID, "name": &n.Name, "user_count": &n.UserCount, "workspace_count": &n.WorkspaceCount}); err != nil {
				return nil, err
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		n.ID = ids.Encode(ids.Organization, n.ID)
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(nodes) > 50 {
		nodes = nodes[:50]
	}
	var total int
	if err := h.DB.QueryRowContext(ctx, orgCountSQL).Scan(&total); err != nil {
		return nil, err
	}
	type conn struct {
		TotalCount int       `json:"totalCount"`
		Nodes      []orgNode `json:"nodes"`
	}
	return struct {
		Organizations conn `json:"organizations"`
	}{conn{total, nodes}}, nil
}

type pageInfo struct {
	HasNextPage bool    `json:"hasNextPage"`
	EndCursor   *string `json:"endCursor"`
}

// organization reads the organization of global ID gid for a caller who
// must be its ADMIN (or a platform administrator), as authz.Fetch does.
func (h *Raw) organization(ctx context.Context, a *actor, gid string) (id string, userCount int, err error) {
	id, ok := ids.Decode(ids.Organization, gid)
	if !ok {
		return "", 0, errors.New("not an organization ID")
	}
	rows, err := h.DB.QueryContext(ctx, orgByIDSQL, id, 1)
	if err != nil {
		return "", 0, err
	}
	defer rows.Close()
	if !rows.Next() {
		return "", 0, errors.New("organization not found")
	}
	var rowID string
	dest, err := columnsInto(rows, map[string]any{"id": &rowID, "user_count": &userCount})
	if err != nil {
		return "", 0, err
	}
	if err := rows.Scan(dest...); err != nil {
		return "", 0, err
	}
	if err := rows.Err(); err != nil {
		return "", 0, err
	}
	if !a.platformAdmin && (rowID != a.orgID || a.role != string(store.RoleAdmin)) {
		return "", 0, errors.New("organization not found")
	}
	return rowID, userCount, nil
}

// page cuts a keyset page of first rows out of the first+1 fetched
// (nodes, with their raw IDs) and says whether there is more.
func page[T any](nodes []T, rawIDs []string, first int) ([]T, pageInfo) {
	pi := pageInfo{HasNextPage: len(nodes) > first}
	if pi.HasNextPage {
		nodes, rawIDs = nodes[:first], rawIDs[:first]
	}
	if len(rawIDs) > 0 {
		c := store.Cursor(rawIDs[len(rawIDs)-1])
		pi.EndCursor = &c
	}
	return nodes, pi
}

type userNode struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Status    string `json:"status"`
	CreatedAt string `json:"createdAt"`
}

func (h *Raw) users(ctx context.Context, a *actor, gid, after string) (any, error) {
	orgID, total, err := h.organization(ctx, a, gid)
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if afterID, ok := store.CursorID(after); ok {
		rows, err = h.DB.QueryContext(ctx, fmt.Sprintf(usersAfterSQL, h.table("users", "users_organization")), orgID, afterID, 51)
	} else {
		rows, err = h.DB.QueryContext(ctx, fmt.Sprintf(usersSQL, h.table("users", "users_organization")), orgID, 51)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		n       userNode
		created time.Time
		nodes   = make([]userNode, 0, 51)
		rawIDs  = make([]string, 0, 51)
		dest    []any
	)
	for rows.Next() {
		if dest == nil {
			if dest, err = columnsInto(rows, map[string]any{"id": &n.ID, "email": &n.Email, "name": &n.Name, "role": &n.Role, "status": &n.Status, "created_at": &created}); err != nil {
				return nil, err
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		rawIDs = append(rawIDs, n.ID)
		n.ID = ids.Encode(ids.User, n.ID)
		n.CreatedAt = created.UTC().Format(time.RFC3339Nano)
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	nodes, pi := page(nodes, rawIDs, 50)
	type conn struct {
		TotalCount int        `json:"totalCount"`
		PageInfo   pageInfo   `json:"pageInfo"`
		Nodes      []userNode `json:"nodes"`
	}
	type org struct {
		Users conn `json:"users"`
	}
	return struct {
		Organization org `json:"organization"`
	}{org{conn{total, pi, nodes}}}, nil
}

type auditNode struct {
	ID         string  `json:"id"`
	Action     string  `json:"action"`
	Outcome    string  `json:"outcome"`
	ActorEmail *string `json:"actorEmail"`
	TargetType *string `json:"targetType"`
	TargetID   *string `json:"targetId"`
	CreatedAt  string  `json:"createdAt"`
}

func (h *Raw) auditEvents(ctx context.Context, a *actor, gid string) (any, error) {
	orgID, _, err := h.organization(ctx, a, gid)
	if err != nil {
		return nil, err
	}
	rows, err := h.DB.QueryContext(ctx, fmt.Sprintf(auditSQL, h.table("audit_events", "audit_events_organization")), orgID, "workspace.created", "user.login", 101)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		id, action, outcome         string
		email, targetType, targetID sql.NullString
		created                     time.Time
		nodes                       = make([]auditNode, 0, 101)
		rawIDs                      = make([]string, 0, 101)
		dest                        []any
	)
	for rows.Next() {
		if dest == nil {
			if dest, err = columnsInto(rows, map[string]any{"id": &id, "action": &action, "outcome": &outcome, "actor_email": &email,
				"target_type": &targetType, "target_id": &targetID, "created_at": &created}); err != nil {
				return nil, err
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		n := auditNode{ID: ids.Encode(ids.AuditEvent, id), Action: action, Outcome: outcome, CreatedAt: created.UTC().Format(time.RFC3339Nano)}
		if email.Valid {
			e := email.String
			n.ActorEmail = &e
		}
		if targetType.Valid {
			t := targetType.String
			n.TargetType = &t
			if targetID.Valid {
				g := ids.Encode(ids.Type(t), targetID.String)
				n.TargetID = &g
			}
		}
		rawIDs = append(rawIDs, id)
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	nodes, pi := page(nodes, rawIDs, 100)
	type conn struct {
		PageInfo pageInfo    `json:"pageInfo"`
		Nodes    []auditNode `json:"nodes"`
	}
	type org struct {
		AuditEvents conn `json:"auditEvents"`
	}
	return struct {
		Organization org `json:"organization"`
	}{org{conn{pi, nodes}}}, nil
}

// workspaceSnapshot is the audit metadata of a created workspace (the
// tracked fields of audit's table for store.Workspace).
type workspaceSnapshot struct {
	ConnectionType string  `json:"connectionType"`
	CPUCores       int     `json:"cpuCores"`
	Description    string  `json:"description"`
	ImageURL       *string `json:"imageUrl"`
	MemoryMB       int     `json:"memoryMb"`
	Name           string  `json:"name"`
	Status         string  `json:"status"`
	StorageGB      int     `json:"storageGb"`
	Type           string  `json:"type"`
	URL            *string `json:"url"`
}

// createWorkspace runs the service's transaction: the organization row
// locked (quota check), its counters moved, the workspace, its usage
// record and its audit event inserted.
func (h *Raw) createWorkspace(ctx context.Context, a *actor, r *http.Request, reqID string, w store.Workspace) (any, error) {
	if a.role != string(store.RoleAdmin) {
		return nil, errors.New("not an admin")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	w.ID, w.OrganizationID, w.Status, w.CreatedAt, w.UpdatedAt = ids.New(), a.orgID, store.WorkspaceAvailable, now, now
	meta, err := json.Marshal(map[string]workspaceSnapshot{"workspace": {ConnectionType: string(w.ConnectionType), CPUCores: w.CPUCores,
		MemoryMB: w.MemoryMB, Name: w.Name, Status: string(w.Status), StorageGB: w.StorageGB, Type: string(w.Type)}})
	if err != nil {
		return nil, err
	}
	tx, err := h.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	lock := orgByIDSQL
	if h.Engine == db.MySQL {
		lock = orgLockSQL
	}
	rows, err := tx.QueryContext(ctx, lock, w.OrganizationID, 1)
	if err != nil {
		return nil, err
	}
	var (
		count                                 int
		cpu, mem, disk                        int
		maxWs, maxCPU, maxMem, maxDisk, maxUs sql.NullInt64
	)
	if rows.Next() {
		dest, err := columnsInto(rows, map[string]any{"workspace_count": &count, "cpu_cores": &cpu, "memory_mb": &mem, "storage_gb": &disk,
			"max_workspaces": &maxWs, "max_cpu_cores": &maxCPU, "max_memory_mb": &maxMem, "max_storage_gb": &maxDisk, "max_users": &maxUs})
		if err == nil {
			err = rows.Scan(dest...)
		}
		if err != nil {
			_ = rows.Close()
			return nil, err
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	over := func(limit sql.NullInt64, used, add int) bool { return limit.Valid && int64(used+add) > limit.Int64 }
	if over(maxWs, count, 1) || over(maxCPU, cpu, w.CPUCores) || over(maxMem, mem, w.MemoryMB) || over(maxDisk, disk, w.StorageGB) {
		return nil, errors.New("quota exceeded")
	}
	if _, err := tx.ExecContext(ctx, orgAddSQL, w.CPUCores, w.MemoryMB, w.StorageGB, 1, w.OrganizationID); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, insertWsSQL, w.ID, w.OrganizationID, w.Name, w.Description, w.Type, w.ConnectionType, w.Status,
		nil, nil, w.CPUCores, w.MemoryMB, w.StorageGB, w.CreatedAt, w.UpdatedAt); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, insertUsageSQL, ids.New(), w.OrganizationID, w.ID, w.Name, w.Status, w.CPUCores, w.MemoryMB, w.StorageGB, now, store.OpenEnd); err != nil {
		return nil, err
	}
	ip := clientIP(r)
	ua := r.UserAgent()
	if _, err := tx.ExecContext(ctx, insertAuditSQL, ids.New(), w.OrganizationID, "workspace.created", store.OutcomeSuccess, a.userID, a.email, a.orgID,
		string(ids.Workspace), w.ID, w.OrganizationID, string(meta), ip, ua, reqID, now); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	type ws struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	return struct {
		CreateWorkspace ws `json:"createWorkspace"`
	}{ws{ids.Encode(ids.Workspace, w.ID), w.Name}}, nil
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
