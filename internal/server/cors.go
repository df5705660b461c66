package server

import (
	"net/http"
	"strings"

	"github.com/rs/cors"
)

// CORSMaxAge is how long (seconds) a browser may cache a preflight answer.
const CORSMaxAge = 600

// corsExposed are the response headers a page on another origin may read.
var corsExposed = []string{"X-Request-ID", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy", "Retry-After"}

// withCORS lets pages on the exact origins listed (NEOSC_CORS_ORIGINS,
// lower-cased by config) call next from a browser: a preflight is answered
// 204 with the allowed methods (GET, POST), request headers
// (Authorization, Content-Type, and X-Request-ID and Idempotency-Key, which
// the service honours) and a max-age; an actual request gets
// Access-Control-Allow-Origin set to its own origin (never *) and the
// exposed headers. Credentials (cookies) are never allowed: the API takes
// Bearer tokens only. Every answer varies by Origin. A request with no
// Origin, or from an origin not listed (the service's own included), is
// answered as without CORS: it gets no Access-Control-* header, and the
// browser keeps a foreign page from reading it. No origins listed: the same
// for every origin (same-origin only).
//
// rs/cors does the protocol (preflight detection, the request-header and
// method checks, Vary) and is well kept; origins are matched by our own
// exact lookup (AllowOriginFunc) so that neither an empty list (rs/cors's
// default is every origin) nor a "*" or wildcard can widen it.
func withCORS(origins []string, next http.Handler) http.Handler {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[strings.ToLower(o)] = true
	}
	return cors.New(cors.Options{
		AllowOriginFunc:      func(origin string) bool { return allowed[strings.ToLower(origin)] },
		AllowedMethods:       []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:       []string{"Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"},
		ExposedHeaders:       corsExposed,
		MaxAge:               CORSMaxAge,
		AllowCredentials:     false,
		OptionsSuccessStatus: http.StatusNoContent,
	}).Handler(next)
}
