package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// BenchmarkHotPaths runs the read scenarios of docs/performance.md (S1,
// S2a, S3) in process, straight into the handler (no loopback), on a small
// data set: the numbers to profile with -cpuprofile. The full comparison
// with the raw baseline is `make bench`.
func BenchmarkHotPaths(b *testing.B) {
	env := apitest.New(b, testdb.New(b, db.SQLite))
	admin := env.Register("admin@big.test", "Big")
	env.Exec(`UPDATE users SET platform_admin = true WHERE id = ?`, uuidOf(b, admin.UserID))
	orgID := uuidOf(b, admin.OrgID)
	st := store.New(env.DB.DB)
	ctx := context.Background()
	now := time.Now().UTC()
	for i := 0; i < 200; i++ {
		u := &store.User{ID: ids.New(), OrganizationID: orgID, Email: fmt.Sprintf("u%03d@big.test", i), Name: fmt.Sprintf("User %d", i),
			Role: store.RoleMember, Status: store.UserActive, CreatedAt: now, UpdatedAt: now, EmailVerifiedAt: &now}
		if err := st.Users.Create(ctx, u); err != nil {
			b.Fatal(err)
		}
		for _, action := range []string{"user.login", "workspace.created", "workspace.updated"} {
			a, email, tt, tid := action, u.Email, "User", u.ID
			if err := st.AuditEvents.Insert(ctx, &store.AuditEvent{ID: ids.New(), OrganizationID: &orgID, Action: a, Outcome: store.OutcomeSuccess,
				ActorID: &u.ID, ActorEmail: &email, ActorOrganizationID: &orgID, TargetType: &tt, TargetID: &tid,
				Metadata: store.JSON{"name": "x", "n": i}, CreatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := 0; i < 60; i++ {
		env.Register(fmt.Sprintf("a%d@org%d.test", i, i), fmt.Sprintf("Org %d", i))
	}
	env.Exec(`UPDATE organizations SET user_count = (SELECT COUNT(*) FROM users WHERE users.organization_id = organizations.id)`)
	vars := map[string]any{"id": admin.OrgID}
	for _, sc := range []struct{ name, query string }{
		{"S1", `{ organizations(first: 50) { totalCount nodes { id name userCount workspaceCount } } }`},
		{"S2a", `query($id: ID!) { organization(id: $id) { users(first: 50) { totalCount pageInfo { hasNextPage endCursor } nodes { id email name role status createdAt } } } }`},
		{"S3", `query($id: ID!) { organization(id: $id) { auditEvents(first: 100, filter: {actions: ["workspace.created", "user.login"]}) { pageInfo { hasNextPage endCursor } nodes { id action outcome actorEmail targetType targetId createdAt } } } }`},
	} {
		body, _ := json.Marshal(map[string]any{"query": sc.query, "variables": vars})
		b.Run(sc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+admin.Token)
				rec := httptest.NewRecorder()
				env.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func uuidOf(b *testing.B, global string) string {
	_, id, ok := ids.Parse(global)
	if !ok {
		b.Fatal("bad id", global)
	}
	return id
}
