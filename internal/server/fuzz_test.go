package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// FuzzGraphQLHandler throws arbitrary bodies and tokens at the real HTTP
// handler (embedded database). Properties: no panic escapes, every 5xx is
// the masked internal error, every error carries a contract code, and no
// input takes more than a few seconds (a hang detector, not a speed goal);
// the database being healthy, no input may produce an internal error at all.
// CI runs it for a short fixed time: go test -run '^$' -fuzz FuzzGraphQLHandler -fuzztime 20s ./internal/server
func FuzzGraphQLHandler(f *testing.F) {
	env := apitest.New(f, testdb.New(f, db.SQLite))
	acc := env.Register("fuzz@example.com", "Fuzz")
	other := env.Register("other@other.test", "Other")
	for _, q := range hostilePayloads(acc.OrgID) {
		body, _ := json.Marshal(map[string]any{"query": q})
		f.Add(body, true)
	}
	for _, seed := range []string{
		`{"query":"{ me { id email organization { name workspaceCount } } }"}`,
		`{"query":"query($id: ID!) { organization(id: $id) { name users { nodes { email } } } }","variables":{"id":"` + other.OrgID + `"}}`,
		`{"query":"mutation { createWorkspace(input: {name: \"x\", type: DEV, connectionType: WEB, cpuCores: 1, memoryMb: 512, storageGb: 1}) { id } }"}`,
		`{"query":"{ node(id: \"` + other.UserID + `\") { id ... on User { email } } }"}`,
		`{"query": 1}`, `[]`, `{"query":"{","variables":[1,2]}`, `{"query":"{ me { id } }","variables":{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}}`,
		`{"query":"subscription { me { id } }"}`, `{"query":"{ __schema { types { name fields { name } } } }"}`,
	} {
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, withToken bool) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if withToken {
			req.Header.Set("Authorization", "Bearer "+acc.Token)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		// A hang never returns to be timed: the watchdog ends the worker, and
		// the fuzzing engine saves the input that hung.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("input hung for 10s: %q", body)) })
		defer watchdog.Stop()
		env.Handler.ServeHTTP(rec, req) // a panic here fails the fuzz run
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("input took %s", d)
		}
		out := rec.Body.Bytes()
		if rec.Code >= 500 {
			if !bytes.Contains(out, []byte(`"code":"INTERNAL_SERVER_ERROR"`)) || !bytes.Contains(out, []byte(`"message":"internal server error"`)) {
				t.Fatalf("unmasked %d: %s", rec.Code, out)
			}
		}
		var resp struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("response is not JSON (%v): %.200s", err, out)
		}
		for _, e := range resp.Errors {
			if code, _ := e.Extensions["code"].(string); code == "" {
				t.Fatalf("error without a code: %s", out)
			}
			if code, _ := e.Extensions["code"].(string); code == "INTERNAL_SERVER_ERROR" {
				// The database is healthy: an internal error means a client
				// mistake was not classified, or a bug.
				t.Fatalf("internal error for a request: %s\nbody: %q", out, body)
			}
			if strings.Contains(strings.ToLower(e.Message), "sql") {
				t.Fatalf("SQL in an error: %s", out)
			}
		}
		if bytes.Contains(out, []byte("other@other.test")) {
			t.Fatalf("another organization's data: %s", out)
		}
	})
}
