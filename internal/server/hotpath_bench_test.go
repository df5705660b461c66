package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	seedpkg "github.com/neosc/neosc/internal/seed"
	"github.com/neosc/neosc/internal/testdb"
)

// BenchmarkHotPaths runs the read scenarios of docs/performance.md (S1,
// S2a, S3) in process, straight into the handler (no loopback), on a small
// seeded data set (internal/seed): the numbers to profile with -cpuprofile. The full comparison
// with the raw baseline is `make bench`.
func BenchmarkHotPaths(b *testing.B) {
	d := testdb.New(b, db.SQLite)
	env := apitest.New(b, d)
	res, err := seedpkg.Run(context.Background(), d, seedpkg.Options{Organizations: 60, Users: 400, BigOrgUsers: 200,
		Workspaces: 120, BigOrgWorkspaces: 60, AuditEvents: 1200, Seed: 1}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	token := func(userID, orgID string) string {
		tok, _, err := env.Tokens.Issue(userID, orgID)
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	platform, admin := token(res.PlatformAdminID, res.PlatformOrgID), token(res.BigOrgAdminID, res.BigOrgID)
	orgGlobalID := ids.Encode(ids.Organization, res.BigOrgID)
	vars := map[string]any{"id": orgGlobalID}
	for _, sc := range []struct{ name, token, query string }{
		{"S1", platform, `{ organizations(first: 50) { totalCount nodes { id name userCount workspaceCount } } }`},
		{"S2a", admin, `query($id: ID!) { organization(id: $id) { users(first: 50) { totalCount pageInfo { hasNextPage endCursor } nodes { id email name role status createdAt } } } }`},
		{"S3", admin, `query($id: ID!) { organization(id: $id) { auditEvents(first: 100, filter: {actions: ["workspace.created", "user.login"]}) { pageInfo { hasNextPage endCursor } nodes { id action outcome actorEmail targetType targetId createdAt } } } }`},
	} {
		body, _ := json.Marshal(map[string]any{"query": sc.query, "variables": vars})
		b.Run(sc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+sc.token)
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
