// Package web serves the browser pages: the Organizations console at GET /
// and GraphiQL at GET /graphiql, both built from web/src by web/build.mjs
// into web/dist and embedded in the binary. Every file comes from the
// server's own origin; a binary built without the UI answers GET / with a
// page that says how to build it.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
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

// public is what GET /ui/config.json tells the console.
func (c Config) public() map[string]any {
	sso := c.OIDCIssuer != "" && c.OIDCClientID != ""
	out := map[string]any{"sso": sso}
	if sso {
		out["oidcIssuer"], out["oidcClientId"] = c.OIDCIssuer, c.OIDCClientID
	}
	return out
}

// Built reports whether the UI was built into the binary.
func Built() bool {
	_, err := fs.Stat(dist, "dist/.stamp")
	return err == nil
}

// Handler serves the pages and their files.
func Handler(cfg Config) http.Handler {
	files, _ := fs.Sub(dist, "dist")
	mux := http.NewServeMux()
	if !Built() {
		mux.HandleFunc("GET /", notBuilt)
		return mux
	}
	static := http.StripPrefix("/ui/", http.FileServerFS(files))
	mux.Handle("GET /ui/", static)
	mux.HandleFunc("GET /ui/config.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_ = json.NewEncoder(w).Encode(cfg.public())
	})
	mux.HandleFunc("GET /graphiql", page(files, "graphiql/index.html"))
	mux.HandleFunc("GET /", page(files, "console/index.html"))
	return mux
}

func page(files fs.FS, name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			http.Error(w, "page missing from the build", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
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

func notBuilt(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if r.URL.Path != "/" && r.URL.Path != "/graphiql" {
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(notBuiltPage))
}
