package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/server"
	"github.com/neosc/neosc/internal/testdb"
)

const (
	listedOrigin   = "http://console.example.test:5173"
	unlistedOrigin = "http://evil.example.test"
)

func preflight(t *testing.T, env *apitest.Env, origin string) *apitest.Response {
	t.Helper()
	req := httpRequest(t, env, http.MethodOptions, "/graphql", "", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	return env.Send(req)
}

func hasVaryOrigin(h http.Header) bool {
	for _, v := range h.Values("Vary") {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "Origin") {
				return true
			}
		}
	}
	return false
}

func noCORSHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for name := range h {
		if strings.HasPrefix(name, "Access-Control-") {
			t.Errorf("%s: %s: %q", what, name, h.Get(name))
		}
	}
}

// TestPreflightWas405: OPTIONS /graphql answered 405 with no
// Access-Control-* header, so no page on another origin could call the
// API. Now a listed origin's preflight is 204 with what the browser needs,
// never *, never credentials.
func TestPreflightWas405(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d, apitest.WithCORSOrigins(listedOrigin))
		acc := env.Register("cors@example.com", "Cors")

		r := preflight(t, env, listedOrigin)
		h := r.Header
		if r.Status != http.StatusNoContent {
			t.Fatalf("preflight: %d %s", r.Status, r.Body)
		}
		if got := h.Get("Access-Control-Allow-Origin"); got != listedOrigin {
			t.Errorf("Access-Control-Allow-Origin %q", got)
		}
		methods := h.Get("Access-Control-Allow-Methods")
		if !strings.Contains(methods, "POST") {
			t.Errorf("Access-Control-Allow-Methods %q", methods)
		}
		allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		if !strings.Contains(allowed, "authorization") || !strings.Contains(allowed, "content-type") {
			t.Errorf("Access-Control-Allow-Headers %q", allowed)
		}
		if got := h.Get("Access-Control-Max-Age"); got != decimal(server.CORSMaxAge) {
			t.Errorf("Access-Control-Max-Age %q", got)
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials allowed")
		}
		if !hasVaryOrigin(h) {
			t.Errorf("preflight without Vary: Origin: %v", h)
		}
		// GET is allowed too; PUT is not.
		req := httpRequest(t, env, http.MethodOptions, "/graphql", "", nil)
		req.Header.Set("Origin", listedOrigin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		if r := env.Send(req); r.Header.Get("Access-Control-Allow-Origin") != listedOrigin {
			t.Errorf("GET preflight: %v", r.Header)
		}
		req.Header.Set("Access-Control-Request-Method", "PUT")
		if r := env.Send(req); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("PUT preflight allowed: %v", r.Header)
		}
		// A header the API does not take is refused.
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,x-evil")
		if r := env.Send(req); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight with x-evil allowed: %v", r.Header)
		}

		// An unlisted origin: no Access-Control-* at all.
		r = preflight(t, env, unlistedOrigin)
		noCORSHeaders(t, "unlisted preflight", r.Header)
		if !hasVaryOrigin(r.Header) {
			t.Errorf("unlisted preflight without Vary: Origin")
		}
		// A plain OPTIONS (not a preflight) says what is allowed.
		req = httpRequest(t, env, http.MethodOptions, "/graphql", "", nil)
		if r := env.Send(req); r.Status != http.StatusNoContent || !strings.Contains(r.Header.Get("Allow"), "POST") {
			t.Errorf("plain OPTIONS: %d %v", r.Status, r.Header)
		}

		// Actual requests: the listed origin may read the answer and the
		// headers it needs, success and error (401) alike.
		for _, token := range []string{acc.Token, "bad-token"} {
			req := httpRequest(t, env, http.MethodPost, "/graphql", "application/json", strings.NewReader(`{"query":"{ me { id } }"}`))
			req.Header.Set("Origin", listedOrigin)
			req.Header.Set("Authorization", "Bearer "+token)
			r := httpSend(t, env, req)
			if r.Header.Get("Access-Control-Allow-Origin") != listedOrigin || !hasVaryOrigin(r.Header) {
				t.Errorf("actual request (%d): %v", r.Status, r.Header)
			}
			exposed := strings.ToLower(strings.Join(r.Header.Values("Access-Control-Expose-Headers"), ","))
			for _, name := range []string{"x-request-id", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"} {
				if !strings.Contains(exposed, name) {
					t.Errorf("%s not exposed: %q", name, exposed)
				}
			}
			if r.Header.Get("Access-Control-Allow-Credentials") != "" || r.Header.Get("Access-Control-Allow-Origin") == "*" {
				t.Errorf("credentials or *: %v", r.Header)
			}
		}
		// Unlisted, and no Origin (curl, a server, a same-origin page's
		// GET): unaffected, no Access-Control-* header.
		for _, origin := range []string{unlistedOrigin, ""} {
			req := httpRequest(t, env, http.MethodPost, "/graphql", "application/json", strings.NewReader(`{"query":"{ me { id } }"}`))
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			req.Header.Set("Authorization", "Bearer "+acc.Token)
			r := httpSend(t, env, req).OK(t)
			noCORSHeaders(t, "origin "+origin, r.Header)
		}
	})
}

// TestCORSOffByDefault: no NEOSC_CORS_ORIGINS means same-origin only: no
// origin, however it looks, gets an Access-Control-* header (rs/cors's own
// default for an empty list would be every origin).
func TestCORSOffByDefault(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	env := apitest.New(t, d)
	for _, origin := range []string{listedOrigin, env.Server.URL, "null", "*"} {
		r := preflight(t, env, origin)
		noCORSHeaders(t, "preflight from "+origin, r.Header)
		req := httpRequest(t, env, http.MethodPost, "/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Origin", origin)
		noCORSHeaders(t, "POST from "+origin, httpSend(t, env, req).OK(t).Header)
	}
}
