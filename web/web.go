// Package web serves the browser pages: the Organizations console at GET /
// and GraphiQL at GET /graphiql, both built from web/src by web/build.mjs
// into web/dist and embedded in the binary. Every file comes from the
// server's own origin; a binary built without the UI answers GET / with a
// page that says how to build it.
//
// Rules: every answer of this package carries the security headers of
// headers.go (a Content-Security-Policy without inline script or another
// origin, inline styles for GraphiQL's editor only, nosniff, no referrer,
// no framing); only files of the build are
// served (no directory listing; an unknown /ui/ path is 404, never the
// console); the pages keep the session token in memory or sessionStorage,
// never in a cookie or localStorage (the API reads only the Authorization
// header).
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Config is what the pages need to know about the deployment.
type Config struct {
	// OIDCIssuer and OIDCClientID enable "Sign in with SSO" in the console
	// (authorization code + PKCE) when both are set.
	OIDCIssuer   string
	OIDCClientID string
}

func (c Config) sso() bool { return c.OIDCIssuer != "" && c.OIDCClientID != "" }

// public is what GET /ui/config.json tells the console.
func (c Config) public() map[string]any {
	out := map[string]any{"sso": c.sso()}
	if c.sso() {
		out["oidcIssuer"], out["oidcClientId"] = c.OIDCIssuer, c.OIDCClientID
	}
	return out
}

// Built reports whether the UI was built into the binary.
func Built() bool { return built(dist) }

func built(files fs.FS) bool {
	_, err := fs.Stat(files, "dist/.stamp")
	return err == nil
}

// Handler serves the pages and their files.
func Handler(cfg Config) http.Handler { return newHandler(dist, cfg) }

// newHandler serves root (which holds dist/) as Handler does: the pages
// when the build is there, else the not-built page.
func newHandler(root fs.FS, cfg Config) http.Handler {
	h := newSecure(cfg)
	mux := http.NewServeMux()
	if !built(root) {
		mux.HandleFunc("GET /", notBuilt)
		return h.wrap(mux)
	}
	files, _ := fs.Sub(root, "dist")
	mux.Handle("GET /ui/", http.StripPrefix("/ui/", newStatic(files)))
	mux.HandleFunc("GET /ui/config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_ = json.NewEncoder(w).Encode(cfg.public())
	})
	mux.Handle("GET /graphiql", page(files, "graphiql/index.html", http.StatusOK))
	// The console routes in the browser: its paths answer its page; any
	// other path answers it too (it shows "not found") but with 404, so
	// that /.env or /admin is not a 200 to a scanner or a link checker.
	console := page(files, "console/index.html", http.StatusOK)
	for _, p := range []string{"GET /{$}", "GET /signin", "GET /signin/callback", "GET /organizations/"} {
		mux.Handle(p, console)
	}
	mux.Handle("GET /", page(files, "console/index.html", http.StatusNotFound))
	return h.wrap(mux)
}

// static serves the files of the build, and nothing else: no directory
// listing, no index.html for a folder, 404 for what is not there. Names
// carry no content hash, so browsers revalidate every time (no-cache) and
// the strong ETag (the file's SHA-256) turns that into a 304.
type static struct {
	files fs.FS
	etags map[string]string
}

func newStatic(files fs.FS) static {
	s := static{files: files, etags: map[string]string{}}
	_ = fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		s.etags[name] = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		return nil
	})
	return s
}

func (s static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	etag, ok := s.etags[name]
	if !ok || strings.HasPrefix(path.Base(name), ".") {
		http.NotFound(w, r)
		return
	}
	f, err := s.files.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "unreadable file", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", etag)
	if strings.HasSuffix(name, ".js") {
		// Not left to the host's MIME table: module scripts and workers
		// need a JavaScript type under nosniff.
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	http.ServeContent(w, r, name, time.Time{}, rs) // embedded files have no time
}

func page(files fs.FS, name string, status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			http.Error(w, "page missing from the build", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	})
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NeoSC: UI not built</title></head>
<body><main>
<h1>The NeoSC console is not built into this binary</h1>
<p>The GraphQL API is at <a href="/graphql">/graphql</a>. To serve the console here and GraphiQL at /graphiql,
build the UI (needs Node.js 20 and npm) and then the binary:</p>
<pre>make run</pre>
<p>or by hand: <code>cd web &amp;&amp; npm ci &amp;&amp; node build.mjs &amp;&amp; cd .. &amp;&amp; go build -o bin/neosc .</code></p>
</main></body></html>
`

// notBuilt answers the pages' paths of a binary built without the UI.
func notBuilt(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" && r.URL.Path != "/graphiql" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(notBuiltPage))
}
