package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// hostile payloads, also the fuzz target's seeds.
func hostilePayloads(orgID string) map[string]string {
	deep := func(n int) string {
		var b strings.Builder
		b.WriteString(`{ organization(id: "` + orgID + `") { `)
		for i := 0; i < n; i++ {
			b.WriteString(`workspaces { nodes { organization { `)
		}
		b.WriteString("id")
		for i := 0; i < n; i++ {
			b.WriteString(" } } }")
		}
		b.WriteString(" } }")
		return b.String()
	}
	var aliases strings.Builder
	aliases.WriteString("{ ")
	for i := 0; i < 1000; i++ {
		aliases.WriteString("a")
		aliases.WriteString(strings.Repeat("x", i%7))
		aliases.WriteString(strings.Repeat("y", i/7))
		aliases.WriteString(": me { id } ")
	}
	aliases.WriteString("}")
	return map[string]string{
		"depth 100":          deep(34), // 3 levels per step: 102 deep
		"1,000 aliases":      aliases.String(),
		"100,000 directives": "{ me { id " + strings.Repeat("@include(if: true) ", 100000/4) + strings.Repeat("@a ", 75000) + "} }",
		"fragment cycle":     `query { me { ...A } } fragment A on User { organization { ...B } } fragment B on Organization { users { nodes { ...A } } }`,
		"self fragment":      `query { me { ...A } } fragment A on User { ...A }`,
		"expensive lists":    `{ organizations(first: 100) { nodes { users(first: 100) { nodes { id organization { workspaces(first: 100) { nodes { id } } } } } } } }`,
		"overflowing lists":  `{ organizations(first: 2147483647) { nodes { users(first: 2147483647) { nodes { organization { workspaces(first: 2147483647) { nodes { organization { users(first: 2147483647) { nodes { id } } } } } } } } } } }`,
	}
}

func TestHostileQueriesAreRefused(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		acc := env.Register("target@example.com", "Target")
		for name, q := range hostilePayloads(acc.OrgID) {
			t.Run(name, func(t *testing.T) {
				body, _ := json.Marshal(map[string]any{"query": q})
				if len(body) > 1<<20 {
					t.Fatalf("payload %d bytes: would be refused by size alone", len(body))
				}
				r := env.Do(acc.Token, q, nil)
				code := r.Code()
				if code != "BAD_USER_INPUT" && code != "COMPLEXITY_LIMIT_EXCEEDED" {
					t.Fatalf("want a clear refusal, got %d %q: %.300s", r.Status, code, r.Body)
				}
				if r.Get("data").Exists() && r.Get("data").Type != 0 && r.Get("data").Raw != "null" {
					t.Errorf("something was executed: %.300s", r.Body)
				}
				if r.Message() == "" || strings.Contains(r.Message(), "internal") {
					t.Errorf("unclear message %q", r.Message())
				}
			})
		}
		t.Run("complexity and depth name their limits", func(t *testing.T) {
			r := env.Do(acc.Token, hostilePayloads(acc.OrgID)["expensive lists"], nil).Want(t, "COMPLEXITY_LIMIT_EXCEEDED")
			if !strings.Contains(r.Message(), "complexity") {
				t.Errorf("message %q", r.Message())
			}
			// Huge page sizes nested four deep must not overflow into a small cost.
			env.Do(acc.Token, hostilePayloads(acc.OrgID)["overflowing lists"], nil).Want(t, "COMPLEXITY_LIMIT_EXCEEDED")
			r = env.Do(acc.Token, hostilePayloads(acc.OrgID)["depth 100"], nil).Want(t, "COMPLEXITY_LIMIT_EXCEEDED")
			if !strings.Contains(r.Message(), "depth") {
				t.Errorf("message %q", r.Message())
			}
		})
		t.Run("a 10 MiB body", func(t *testing.T) {
			big := bytes.Repeat([]byte(" "), 10<<20)
			req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", bytes.NewReader(append([]byte(`{"query":"{ me { id } }"`), append(big, '}')...)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+acc.Token)
			if r := env.Send(req); r.Status != http.StatusRequestEntityTooLarge || r.Code() == "" {
				t.Errorf("status %d code %q", r.Status, r.Code())
			}
		})
		t.Run("deeply nested variables", func(t *testing.T) {
			nested := strings.Repeat("[", 50000) + strings.Repeat("]", 50000)
			body := `{"query":"query($x: String) { me { id } }","variables":{"x":` + nested + `}}`
			req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+acc.Token)
			r := env.Send(req)
			if r.Code() != "BAD_USER_INPUT" || r.Status >= 500 {
				t.Errorf("status %d code %q: %.300s", r.Status, r.Code(), r.Body)
			}
			nested = strings.Repeat("[", 5000) + `"x"` + strings.Repeat("]", 5000)
			r = env.Do(acc.Token, `query($x: [[String]]) { me { id } }`, map[string]any{"x": json.RawMessage(nested)})
			if r.Code() != "BAD_USER_INPUT" {
				t.Errorf("nested list variable: status %d code %q: %.300s", r.Status, r.Code(), r.Body)
			}
		})
		t.Run("introspection only for authenticated callers", func(t *testing.T) {
			q := `{ __schema { queryType { name } } }`
			env.Do("", q, nil).Want(t, "UNAUTHENTICATED")
			env.Do("", `{ __type(name: "User") { name } }`, nil).Want(t, "UNAUTHENTICATED")
			env.Do(acc.Token, q, nil).OK(t)
		})
		t.Run("errors suggest no field names", func(t *testing.T) {
			r := env.Do(acc.Token, `{ me { emial } }`, nil).Want(t, "BAD_USER_INPUT")
			if strings.Contains(r.Message(), "Did you mean") {
				t.Errorf("suggestion leaked: %q", r.Message())
			}
		})
		t.Run("the server is healthy afterwards", func(t *testing.T) {
			env.Do(acc.Token, meQuery, nil).OK(t)
			req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/readyz", nil)
			if r := env.Send(req); r.Status != http.StatusOK {
				t.Errorf("readyz %d", r.Status)
			}
		})
	})
}

func TestIntrospectionSettings(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	q := `{ __schema { queryType { name } } }`
	off := apitest.New(t, d, apitest.WithIntrospection("off"))
	acc := off.Register("x@example.com", "")
	if r := off.Do(acc.Token, q, nil).Want(t, "FORBIDDEN"); !strings.Contains(r.Message(), "introspection") {
		t.Errorf("unclear message %q", r.Message())
	}
	public := apitest.New(t, d, apitest.WithIntrospection("public"))
	public.Do("", q, nil).OK(t)
}
