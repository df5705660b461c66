package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// built is a stand-in build: the handler's rules do not depend on what
// the pages contain, so they are tested on files whose content is known
// (the real build is tested in dist_test.go and graphiql_test.go).
var fakeBuild = fstest.MapFS{
	"dist/.stamp":                    {Data: []byte("now\n")},
	"dist/README.md":                 {Data: []byte("readme")},
	"dist/console/index.html":        {Data: []byte("<!doctype html><title>console</title>")},
	"dist/console/app.js":            {Data: []byte("console.log(1)")},
	"dist/graphiql/index.html":       {Data: []byte("<!doctype html><title>graphiql</title>")},
	"dist/graphiql/app.js":           {Data: []byte("graphiql()")},
	"dist/graphiql/app.css":          {Data: []byte("body{}")},
	"dist/graphiql/editor.worker.js": {Data: []byte("self.onmessage=null")},
	// Beside dist/, as web.go is in the real embed: never served.
	"web.go": {Data: []byte("package web // source")},
}

var notBuiltFS = fstest.MapFS{"dist/README.md": {Data: []byte("readme")}}

func get(t *testing.T, h http.Handler, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func assertSecurityHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'self'", "script-src 'self'", "worker-src 'self'",
		"object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
		"img-src 'self' data:", "font-src 'self' data:",
	} {
		if !strings.Contains(csp, want+";") && !strings.HasSuffix(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, want)
		}
	}
	if !strings.HasPrefix(directive(csp, "connect-src"), "connect-src 'self'") {
		t.Errorf("%s: Content-Security-Policy %q lacks connect-src 'self'", path, csp)
	}
	for _, source := range strings.Fields(strings.ReplaceAll(csp, ";", " ")) {
		switch source {
		case "'unsafe-eval'", "blob:", "*", "http:", "https:", "'unsafe-hashes'":
			t.Errorf("%s: Content-Security-Policy %q allows %s", path, csp, source)
		}
	}
	wantStyles := "style-src 'self'"
	if strings.HasPrefix(path, "/graphiql") || strings.HasPrefix(path, "/ui/graphiql/") {
		wantStyles += " 'unsafe-inline'" // Monaco's run-time <style> elements (headers.go)
	}
	if dir := directive(csp, "style-src"); dir != wantStyles {
		t.Errorf("%s: %q, want %q", path, dir, wantStyles)
	}
	if dir := directive(csp, "script-src"); dir != "script-src 'self'" {
		t.Errorf("%s: %q, want script-src 'self' only (no inline script)", path, dir)
	}
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", path, k, got, want)
		}
	}
	if h.Get("Set-Cookie") != "" {
		t.Errorf("%s: sets a cookie: %q", path, h.Get("Set-Cookie"))
	}
}

func directive(csp, name string) string {
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, name+" ") {
			return d
		}
	}
	return ""
}

func TestPagesAndFiles(t *testing.T) {
	h := newHandler(fakeBuild, Config{})
	for _, tc := range []struct {
		path, status, contentType, body string
	}{
		{"/", "200", "text/html", "<title>console</title>"},
		{"/organizations/T3JnOjE", "200", "text/html", "<title>console</title>"},
		{"/signin/callback?code=x&state=y", "200", "text/html", "<title>console</title>"},
		{"/signin", "200", "text/html", "<title>console</title>"},
		{"/graphiql", "200", "text/html", "<title>graphiql</title>"},
		{"/ui/graphiql/app.js", "200", "text/javascript", "graphiql()"},
		{"/ui/graphiql/editor.worker.js", "200", "text/javascript", "self.onmessage"},
		{"/ui/graphiql/app.css", "200", "text/css", "body{}"},
		{"/ui/config.json", "200", "application/json", `"sso":false`},
		// Only files of the build: no listing, no index for a folder, no
		// console page for an unknown file, nothing outside dist/.
		{"/ui/", "404", "", ""},
		{"/ui/graphiql/", "404", "", ""},
		{"/ui/graphiql", "404", "", ""},
		{"/ui/graphiql/nope.js", "404", "", ""},
		{"/ui/graphiql/index.html", "200", "text/html", "<title>graphiql</title>"},
		{"/ui/.stamp", "404", "", ""},
		{"/ui/%2e%2e/web.go", "404", "", ""},
	} {
		w := get(t, h, tc.path)
		if got := w.Result().Status[:3]; got != tc.status {
			t.Errorf("GET %s: %s, want %s (%q)", tc.path, got, tc.status, w.Body.String())
			continue
		}
		assertSecurityHeaders(t, tc.path, w.Header())
		if tc.status != "200" {
			if strings.Contains(w.Body.String(), "<title>") {
				t.Errorf("GET %s answers a page instead of 404: %q", tc.path, w.Body.String())
			}
			continue
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.contentType)
		}
		if !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("GET %s: body %q lacks %q", tc.path, w.Body.String(), tc.body)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache (names carry no hash)", tc.path, cc)
		}
	}
}

// TestUnknownPathsAre404: a path that is not the console's answers its page
// (which says "not found") with status 404.
func TestUnknownPathsAre404(t *testing.T) {
	h := newHandler(fakeBuild, Config{})
	for _, path := range []string{"/.env", "/admin", "/graphql/x", "/signin/x", "/favicon.ico"} {
		w := get(t, h, path)
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "<title>console</title>") {
			t.Errorf("GET %s: %d %q, want 404 with the console's page", path, w.Code, w.Body.String())
		}
		assertSecurityHeaders(t, path, w.Header())
	}
}

// TestNoEscape: a path that climbs out of dist/ never reaches the source.
func TestNoEscape(t *testing.T) {
	h := newHandler(fakeBuild, Config{})
	for _, path := range []string{"/ui/../web.go", "/ui/..%2fweb.go", "/ui/graphiql/../../web.go", "/ui//etc/passwd", "/ui/%2e%2e/web.go", "/web.go", "/ui/web.go"} {
		w := get(t, h, path)
		if body := w.Body.String(); strings.Contains(body, "package web") || strings.Contains(body, "root:") {
			t.Errorf("GET %s: %d %q", path, w.Code, body)
		}
	}
}

func TestStaticRevalidates(t *testing.T) {
	h := newHandler(fakeBuild, Config{})
	first := get(t, h, "/ui/graphiql/app.js")
	etag := first.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag %q, want a strong content hash", etag)
	}
	if again := get(t, h, "/ui/graphiql/app.js", "If-None-Match", etag); again.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: %d, want 304", again.Code)
	}
	if other := get(t, h, "/ui/graphiql/app.css").Header().Get("ETag"); other == etag {
		t.Errorf("two different files share the ETag %s", etag)
	}
	if changed := get(t, h, "/ui/graphiql/app.js", "If-None-Match", `"stale"`); changed.Code != http.StatusOK {
		t.Errorf("If-None-Match with a stale ETag: %d, want 200", changed.Code)
	}
}

func TestContentSecurityPolicySSO(t *testing.T) {
	h := newHandler(fakeBuild, Config{OIDCIssuer: "https://id.example.com/oauth/v2", OIDCClientID: "console"})
	w := get(t, h, "/")
	assertSecurityHeaders(t, "/ with SSO", w.Header())
	if got := directive(w.Header().Get("Content-Security-Policy"), "connect-src"); got != "connect-src 'self' https://id.example.com" {
		t.Errorf("with SSO: %q, want the provider's origin added to connect-src", got)
	}
	if body := get(t, h, "/ui/config.json").Body.String(); !strings.Contains(body, `"oidcIssuer":"https://id.example.com/oauth/v2"`) ||
		!strings.Contains(body, `"oidcClientId":"console"`) {
		t.Errorf("config.json with SSO: %s", body)
	}

	// An issuer without a client ID is for API tokens only: the console
	// offers no SSO and the browser talks to this origin only.
	h = newHandler(fakeBuild, Config{OIDCIssuer: "https://id.example.com"})
	if got := directive(get(t, h, "/").Header().Get("Content-Security-Policy"), "connect-src"); got != "connect-src 'self'" {
		t.Errorf("without a client ID: %q, want connect-src 'self'", got)
	}
}

// TestNotBuilt: a binary built without the UI (only dist/README.md, as in a
// fresh clone) answers the pages' paths with the page that says how to
// build it, and nothing else.
func TestNotBuilt(t *testing.T) {
	if built(notBuiltFS) {
		t.Fatal("a dist/ with only README.md counts as built")
	}
	h := newHandler(notBuiltFS, Config{})
	for _, path := range []string{"/", "/graphiql"} {
		w := get(t, h, path)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "make run") || !strings.Contains(w.Body.String(), "Node.js 20 and npm") {
			t.Errorf("GET %s without the UI: %d %q, want the page that says how to build it", path, w.Code, w.Body.String())
		}
		if strings.Contains(w.Body.String(), "<script") {
			t.Errorf("GET %s: the not-built page has a script", path)
		}
		assertSecurityHeaders(t, path+" (not built)", w.Header())
	}
	for _, path := range []string{"/ui/graphiql/app.js", "/ui/config.json", "/organizations"} {
		if w := get(t, h, path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s without the UI: %d, want 404", path, w.Code)
		}
	}
}
