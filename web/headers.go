package web

import (
	"net/http"
	"net/url"
	"strings"
)

// contentSecurityPolicy is the policy of the answers of this package;
// inlineStyles is for GraphiQL's page and files only.
//
//   - Scripts, workers, fonts, styles and fetches come from this origin
//     only: no inline script, no eval, no CDN. The pages' HTML has no inline
//     script (TestNoInlineScript), GraphiQL's Monaco workers are files of
//     the build (web/src/graphiql/workers.js), not blob: URLs.
//   - style-src is 'self' for the console and the not-built page. For
//     GraphiQL (GET /graphiql and /ui/graphiql/…) it adds 'unsafe-inline':
//     Monaco inserts <style> elements at run time (its editor themes, token colours and per-instance rules are built
//     from JavaScript: createStyleSheet in monaco-editor/esm/vs/base/browser/
//     dom.js), and React writes style attributes (GraphiQL's
//     resizable panes). Without it the editors lose their layout and the
//     browser reports a violation per rule (TestGraphiQL fails on them).
//     Inline styles cannot run script; script-src stays 'self'.
//   - img-src and font-src allow data: (GraphiQL's stylesheet inlines icons).
//   - connect-src adds the OpenID Provider's origin when console SSO is
//     configured: the console's PKCE flow fetches the provider's discovery
//     document and token endpoint from the browser.
//   - frame-ancestors 'none' (and X-Frame-Options for older browsers): no
//     page can frame these and trick a click; base-uri 'none' and
//     object-src 'none' close the remaining script vectors; form-action
//     'self' keeps forms on this origin.
func contentSecurityPolicy(cfg Config, inlineStyles bool) string {
	styles := "'self'"
	if inlineStyles {
		styles += " 'unsafe-inline'"
	}
	connect := "'self'"
	if cfg.sso() {
		if u, err := url.Parse(cfg.OIDCIssuer); err == nil && u.Scheme != "" && u.Host != "" {
			connect += " " + u.Scheme + "://" + u.Host
		}
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src " + styles,
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + connect,
		"worker-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// secure sets the security headers on every answer of the pages.
type secure struct{ csp, graphiqlCSP string }

func newSecure(cfg Config) secure {
	return secure{csp: contentSecurityPolicy(cfg, false), graphiqlCSP: contentSecurityPolicy(cfg, true)}
}

func (s secure) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.URL.Path == "/graphiql" || strings.HasPrefix(r.URL.Path, "/ui/graphiql/") {
			h.Set("Content-Security-Policy", s.graphiqlCSP)
		} else {
			h.Set("Content-Security-Policy", s.csp)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		// no-referrer: the pages link nowhere that needs to know where the
		// visitor came from, and the console's /signin/callback URL
		// carries an authorization code that must not travel on in a
		// Referer header.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
