package server_test

import (
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

// BenchmarkRequests measures whole requests through the HTTP handler on the
// embedded database: authentication, rules, resolvers, JSON.
func BenchmarkRequests(b *testing.B) {
	env := apitest.New(b, testdb.New(b, db.SQLite))
	admin := env.Register("bench@bench.test", "Bench")
	org := seedBench(b, env, admin)
	for _, bc := range []struct{ name, query string }{
		{"me", meQuery},
		{"workspaces-100", `{ organization(id: "` + org + `") { workspaces(first: 100) { totalCount nodes { id name cpuCores organization { name } } } } }`},
		{"organizations", `{ organizations { totalCount nodes { name userCount workspaceCount } } }`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := env.Do(admin.Token, bc.query, nil)
				if r.Code() != "" {
					b.Fatal(string(r.Body))
				}
			}
		})
	}
}

func seedBench(b *testing.B, env *apitest.Env, admin apitest.Account) string {
	b.Helper()
	for i := 0; i < 100; i++ {
		env.CreateWorkspace(admin, apitest.Sprintf("ws-%03d", i))
	}
	_, id, _ := ids.Parse(admin.OrgID)
	return ids.Encode(ids.Organization, id)
}
