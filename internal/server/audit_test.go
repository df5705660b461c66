package server_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// failInserts makes every INSERT into table fail while the returned switch
// is on: the database refusing the write, as a full disk or a lost
// connection would.
func failInserts(t *testing.T, d *db.DB, table string) *atomic.Bool {
	t.Helper()
	on := &atomic.Bool{}
	err := d.Callback().Create().Before("gorm:create").Register("test:fail:"+table, func(tx *gorm.DB) {
		if on.Load() && tx.Statement.Table == table {
			_ = tx.AddError(errors.New("injected failure: insert into " + table + " refused"))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return on
}

func wantMaskedInternal(t *testing.T, env *apitest.Env, r *apitest.Response) {
	t.Helper()
	r.Want(t, "INTERNAL_SERVER_ERROR")
	body := string(r.Body)
	if strings.Contains(body, "injected") || strings.Contains(strings.ToLower(body), "insert") {
		t.Errorf("internal cause leaked to the client: %s", body)
	}
	reqID := r.Get("errors.0.extensions.requestId").String()
	if reqID == "" {
		t.Fatalf("no requestId: %s", body)
	}
	found := false
	for _, line := range strings.Split(env.Logs.String(), "\n") {
		if strings.Contains(line, reqID) && strings.Contains(line, "injected failure") {
			found = true
		}
	}
	if !found {
		t.Errorf("no log line carries request %s and the cause", reqID)
	}
}

func TestChangeAndAuditEventAreOneTransaction(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		auditFails := failInserts(t, d, "audit_events")
		workspaceFails := failInserts(t, d, "workspaces")
		userFails := failInserts(t, d, "users")
		admin := env.Register("admin@tx.test", "Tx")
		ws := env.CreateWorkspace(admin, "keep-me")
		counts := func() (int, int, int) {
			return env.Count("SELECT COUNT(*) FROM workspaces"), env.Count("SELECT COUNT(*) FROM audit_events"),
				env.Count("SELECT workspace_count FROM organizations WHERE name = 'Tx'")
		}

		t.Run("event write fails: create rolled back", func(t *testing.T) {
			w0, e0, c0 := counts()
			auditFails.Store(true)
			r := env.Do(admin.Token, createWS, map[string]any{"in": apitest.WorkspaceInput("doomed")})
			auditFails.Store(false)
			wantMaskedInternal(t, env, r)
			if w, e, c := counts(); w != w0 || e != e0 || c != c0 {
				t.Errorf("workspaces %d→%d, events %d→%d, counter %d→%d: the change survived its event", w0, w, e0, e, c0, c)
			}
		})
		t.Run("event write fails: update rolled back", func(t *testing.T) {
			before := workspaceRow(t, env, ws)
			auditFails.Store(true)
			r := env.Do(admin.Token, updateWS, map[string]any{"id": ws, "in": map[string]any{"name": "renamed"}})
			auditFails.Store(false)
			wantMaskedInternal(t, env, r)
			if after := workspaceRow(t, env, ws); after != before {
				t.Errorf("row changed without its event: %s", after)
			}
		})
		t.Run("event write fails: delete rolled back", func(t *testing.T) {
			w0, _, c0 := counts()
			auditFails.Store(true)
			r := env.Do(admin.Token, deleteWS, map[string]any{"id": ws})
			auditFails.Store(false)
			wantMaskedInternal(t, env, r)
			if w, _, c := counts(); w != w0 || c != c0 {
				t.Errorf("workspaces %d→%d counter %d→%d", w0, w, c0, c)
			}
		})
		t.Run("event write fails: registration rolled back", func(t *testing.T) {
			users, orgs := env.Count("SELECT COUNT(*) FROM users"), env.Count("SELECT COUNT(*) FROM organizations")
			auditFails.Store(true)
			r := register(env, "new@neworg.test", "long-enough", "New", strp("New Org"))
			auditFails.Store(false)
			wantMaskedInternal(t, env, r)
			if env.Count("SELECT COUNT(*) FROM users") != users || env.Count("SELECT COUNT(*) FROM organizations") != orgs {
				t.Error("user or organization written without their events")
			}
		})
		t.Run("event write fails: login changes nothing", func(t *testing.T) {
			var before string
			env.DB.Raw("SELECT COALESCE(CAST(last_login_at AS CHAR), '') FROM users WHERE email = 'admin@tx.test'").Scan(&before)
			auditFails.Store(true)
			r := env.Do("", `mutation { login(input: {email: "admin@tx.test", password: "password-admin@tx.test"}) { token } }`, nil)
			auditFails.Store(false)
			wantMaskedInternal(t, env, r)
			var after string
			env.DB.Raw("SELECT COALESCE(CAST(last_login_at AS CHAR), '') FROM users WHERE email = 'admin@tx.test'").Scan(&after)
			if after != before {
				t.Errorf("lastLoginAt changed %q → %q without its event", before, after)
			}
			if r.Get("data.login.token").Exists() {
				t.Error("a token was issued although the login was rolled back")
			}
		})
		t.Run("change fails: no event, counter untouched", func(t *testing.T) {
			w0, e0, c0 := counts()
			workspaceFails.Store(true)
			r := env.Do(admin.Token, createWS, map[string]any{"in": apitest.WorkspaceInput("never")})
			workspaceFails.Store(false)
			wantMaskedInternal(t, env, r)
			if w, e, c := counts(); w != w0 || e != e0 || c != c0 {
				t.Errorf("workspaces %d→%d, events %d→%d, counter %d→%d: an event without its change", w0, w, e0, e, c0, c)
			}
		})
		t.Run("change fails: registration leaves no event and no organization", func(t *testing.T) {
			events, orgs := env.Count("SELECT COUNT(*) FROM audit_events"), env.Count("SELECT COUNT(*) FROM organizations")
			userFails.Store(true)
			r := register(env, "other@neworg2.test", "long-enough", "Other", strp("New Org 2"))
			userFails.Store(false)
			wantMaskedInternal(t, env, r)
			if env.Count("SELECT COUNT(*) FROM audit_events") != events || env.Count("SELECT COUNT(*) FROM organizations") != orgs {
				t.Error("events or organization written although the user insert failed")
			}
		})
		t.Run("after the failures everything still works and counts are exact", func(t *testing.T) {
			env.Do(admin.Token, deleteWS, map[string]any{"id": ws}).OK(t)
			exactCounts(t, env)
		})
	})
}
