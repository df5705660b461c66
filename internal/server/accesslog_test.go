package server_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// TestAccessLogLine: every request gets one "http request" line with its
// method, path, status, bytes written, duration and the request ID the
// client got; the line carries no source attribute (it is built without
// looking up the caller).
func TestAccessLogLine(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		for _, c := range []struct {
			token  string
			status int
		}{{"", http.StatusOK}, {"not.a.token", http.StatusUnauthorized}} {
			req := httpRequest(t, env, http.MethodPost, "/graphql", "application/json", strings.NewReader(queryBody(t, `{ __typename }`, nil)))
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			r := httpSend(t, env, req)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d", r.Status, c.status)
			}
			id := r.Header.Get("X-Request-ID")
			var found []map[string]any
			for _, line := range strings.Split(env.Logs.String(), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "http request" && rec["request_id"] == id {
					found = append(found, rec)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d access-log lines for request %s, want 1:\n%s", len(found), id, env.Logs.String())
			}
			rec := found[0]
			if rec["level"] != "INFO" || rec["method"] != "POST" || rec["path"] != "/graphql" ||
				rec["status"] != float64(c.status) || rec["bytes"] != float64(len(r.Body)) || rec["time"] == nil {
				t.Errorf("access-log line %v: want INFO POST /graphql %d %d bytes with a time", rec, c.status, len(r.Body))
			}
			if ms, err := strconv.ParseFloat(rec["duration_ms"].(string), 64); err != nil || ms < 0 {
				t.Errorf("duration_ms %v", rec["duration_ms"])
			}
			if _, ok := rec["source"]; ok {
				t.Errorf("access-log line has a source attribute: %v", rec)
			}
		}
	})
}
