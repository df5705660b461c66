package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/server"
	"github.com/neosc/neosc/internal/testdb"
)

// TestIncomingRequestID: the caller's X-Request-ID (a proxy's, a client's)
// is used and echoed, in the header, the errors' extensions.requestId, the
// audit trail and the log, instead of a fresh one each time; a value that
// could inject into logs or is huge is replaced by a fresh UUID. (Control
// characters other than tab never arrive: net/http refuses such a request
// with 400 before any handler runs.)
func TestIncomingRequestID(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		send := func(id, token, query string) *apitest.Response {
			t.Helper()
			req := httpRequest(t, env, http.MethodPost, "/graphql", "application/json", strings.NewReader(queryBody(t, query, nil)))
			if id != "" {
				req.Header["X-Request-Id"] = []string{id}
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			return httpSend(t, env, req)
		}

		for _, id := range []string{
			"4bf92f3577b34da6a3ce929d0e0e4736",
			"Root=1-67891233-abcdef012345678912345678",
			"req_01HZX3.trace:span/1+2@edge",
			strings.Repeat("a", server.MaxRequestIDLength),
		} {
			r := send(id, "", `{ me { id } }`)
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q on /graphql, want nosniff", got)
			}
			if got := r.Header.Get("X-Request-ID"); got != id {
				t.Errorf("sent %q, echoed %q", id, got)
			}
			if got := r.Get("errors.0.extensions.requestId").String(); got != id {
				t.Errorf("sent %q, extensions.requestId %q", id, got)
			}
		}

		// The audit trail and the log carry it, whole even at the longest
		// (the trail's column once cut a 104-character ID to 64).
		audited := "audit-trail-id-7f3a-" + strings.Repeat("x", server.MaxRequestIDLength-len("audit-trail-id-7f3a-"))
		acc := env.Register("rid@example.com", "RequestIDs")
		req := httpRequest(t, env, http.MethodPost, "/graphql", "application/json",
			strings.NewReader(queryBody(t, `mutation { createWorkspace(input: {name: "w", type: DEV, connectionType: WEB, cpuCores: 1, memoryMb: 512, storageGb: 1}) { id } }`, nil)))
		req.Header.Set("X-Request-ID", audited)
		req.Header.Set("Authorization", "Bearer "+acc.Token)
		httpSend(t, env, req).OK(t)
		if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'workspace.created' AND request_id = ?", audited); n != 1 {
			t.Errorf("%d workspace.created events with the caller's request ID, want 1", n)
		}
		if !strings.Contains(env.Logs.String(), `"request_id":"`+audited+`"`) {
			t.Errorf("the access log does not carry the caller's request ID")
		}

		for name, id := range map[string]string{
			"JSON":          `x","level":"ERROR","msg":"injected`,
			"tab":           "abc\tinjected",
			"quote":         `abc"def`,
			"space":         "abc def",
			"too long":      strings.Repeat("a", server.MaxRequestIDLength+1),
			"huge":          strings.Repeat("b", 32<<10),
			"non-ASCII":     "réq-1",
			"non-ASCII 2":   "abc\xff\xfeinjected",
			"percent-coded": "abc%0Ainjected",
		} {
			r := send(id, "", `{ me { id } }`)
			got := r.Header.Get("X-Request-ID")
			if got == id {
				t.Errorf("%s: a hostile request ID was kept", name)
			}
			if _, err := uuid.Parse(got); err != nil {
				t.Errorf("%s: replaced by %q, want a fresh UUID", name, got)
			}
		}
		if strings.Contains(env.Logs.String(), "injected") || strings.Contains(env.Logs.String(), strings.Repeat("b", 200)) {
			t.Errorf("a hostile request ID reached the log")
		}
		// Two requests without one get two different IDs.
		if a, b := send("", "", `{ __typename }`).Header.Get("X-Request-ID"), send("", "", `{ __typename }`).Header.Get("X-Request-ID"); a == b {
			t.Errorf("two requests share the ID %q", a)
		}
	})
}
