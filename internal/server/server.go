package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/internal/apitokens"
	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/domains"
	"github.com/neosc/neosc/internal/identity"
	"github.com/neosc/neosc/internal/loaders"
	"github.com/neosc/neosc/internal/mail"
	"github.com/neosc/neosc/internal/organizations"
	"github.com/neosc/neosc/internal/policy"
	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/usage"
	"github.com/neosc/neosc/internal/workspaces"
	"github.com/neosc/neosc/web"
)

// ParserTokenLimit bounds the tokens of one GraphQL document.
const ParserTokenLimit = 15000

// Deps is what the HTTP surface is built from.
type Deps struct {
	DB             *db.DB
	Migrator       *db.Migrator
	Tokens         *auth.Tokens
	Log            *slog.Logger
	DefaultOrgName string
	// PublicURL is the base of links in mails (NEOSC_PUBLIC_URL).
	PublicURL string
	// MaxPendingInvitations bounds each organization's pending invitations
	// (NEOSC_MAX_PENDING_INVITATIONS; identity's default when 0).
	MaxPendingInvitations int
	// Introspection is who may introspect the schema: "authenticated"
	// (default), "public" or "off".
	Introspection string
	// OIDC, when set, accepts the configured OpenID Provider's access tokens
	// as Bearer tokens and in ssoLogin.
	OIDC *auth.OIDC
	// DNSResolver is the "host:port" of the resolver that looks up domain
	// verification records; "" uses the system's (/etc/resolv.conf).
	DNSResolver string
	// RequestTimeout is the server-side deadline of every request
	// (NEOSC_REQUEST_TIMEOUT); config.DefaultRequestTimeout when 0.
	RequestTimeout time.Duration
	// Limits applies the rate limits (required). Its writer (Start) is the
	// caller's to run: it shares this replica's spending with the others.
	Limits *ratelimit.Limiter
	// Passwords bounds this process's concurrent password hashing
	// (required).
	Passwords *auth.Passwords
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (NEOSC_TRUSTED_PROXIES); the client address of rate limits and of the
	// audit trail is taken from it only for them.
	TrustedProxies []netip.Prefix
	// OIDCIssuer and OIDCClientID (NEOSC_OIDC_ISSUER, NEOSC_OIDC_CLIENT_ID)
	// turn on the console's "Sign in with SSO" when both are set.
	OIDCIssuer   string
	OIDCClientID string
	// CORSOrigins are the exact origins whose pages may call the API from
	// a browser (NEOSC_CORS_ORIGINS); none: same-origin only.
	CORSOrigins []string
	// DefaultQuota is the quota of organizations created from now on
	// (NEOSC_DEFAULT_QUOTA; zero: unlimited), see internal/quota.
	DefaultQuota store.Quota
	// Now is the clock of the workspace usage records and the usage
	// reports (time.Now when nil); tests inject one.
	Now func() time.Time
}

// New returns the service's HTTP handler.
func New(d Deps) http.Handler {
	if d.Limits == nil || d.Passwords == nil {
		panic("server.New: Deps.Limits and Deps.Passwords are required")
	}
	st := store.New(d.DB.DB)
	z := authz.New(graph.Schema(), st, d.Log)
	doms := &domains.Service{Store: st, Authz: z, DNS: domains.NewResolver(d.DNSResolver), Log: d.Log}
	ident := &identity.Service{DefaultQuota: d.DefaultQuota, Domains: doms, Store: st, Tokens: d.Tokens, DefaultOrgName: d.DefaultOrgName, Log: d.Log, OIDC: d.OIDC,
		Authz: z, Passwords: d.Passwords, Limits: d.Limits, PublicURL: d.PublicURL, MaxPendingInvitations: d.MaxPendingInvitations,
		Mail: func(ctx context.Context, tx *store.Store, orgID string, m identity.Mail) error {
			return mail.Enqueue(ctx, tx, orgID, mail.Message{To: m.To, Subject: m.Subject, Text: m.Text})
		}}
	policies := &policy.Service{Store: st, Authz: z, Limits: d.Limits, Log: d.Log}
	resolver := &graph.Resolver{
		Store:         st,
		Authz:         z,
		Identity:      ident,
		Organizations: &organizations.Service{Store: st, Authz: z, DefaultQuota: d.DefaultQuota},
		Workspaces:    &workspaces.Service{Store: st, Authz: z, Log: d.Log, Now: d.Now},
		APITokens:     &apitokens.Service{Store: st, Authz: z, Tokens: d.Tokens, Log: d.Log},
		Domains:       doms,
		Policies:      policies,
		Quotas:        &quota.Service{Store: st, Authz: z},
		Usage:         &usage.Service{Store: st, Now: d.Now},
	}
	es := graph.NewExecutableSchema(graph.Config{Resolvers: resolver})
	gql := graphQLHandler(es, z.Field, d)

	authn := &auth.Authenticator{Tokens: d.Tokens, Store: st, Log: d.Log, Reject: writeError, Admit: policies.Admit}
	if d.OIDC != nil {
		authn.OIDC, authn.External = d.OIDC, ident
	}
	graphqlHandler := authn.Middleware(limitRequests(d.Limits, loaders.Middleware(st, gql)))

	mux := http.NewServeMux()
	mux.Handle("POST /graphql", withCORS(d.CORSOrigins, limitBody(graphqlHandler)))
	mux.Handle("GET /graphql", withCORS(d.CORSOrigins, graphqlHandler))
	// A CORS preflight is answered by withCORS; any other OPTIONS says
	// what the endpoint allows.
	mux.Handle("OPTIONS /graphql", withCORS(d.CORSOrigins, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, r, http.StatusMethodNotAllowed, apperr.New(apperr.BadUserInput, "use GET or POST"))
	})
	// The streamed exports (exports.go): the same authenticator and rate
	// limit as /graphql.
	exp := &exporter{st: st, z: z, usage: resolver.Usage, log: d.Log}
	mux.Handle("GET /usage/export", authn.Middleware(limitRequests(d.Limits, http.HandlerFunc(exp.usageExport))))
	mux.Handle("GET /audit/export", authn.Middleware(limitRequests(d.Limits, http.HandlerFunc(exp.auditExport))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", readyz(d))
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		b, err := json.Marshal(d.Tokens.PublicKeys())
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(auth.JWKSMaxAge.Seconds())))
		_, _ = w.Write(b)
	})
	mux.Handle("/", web.Handler(web.Config{OIDCIssuer: d.OIDCIssuer, OIDCClientID: d.OIDCClientID}))
	return requestContext(d.Log, d.TrustedProxies, recoverHTTP(d.Log, withDeadline(cmp.Or(d.RequestTimeout, config.DefaultRequestTimeout), mux)))
}

// withDeadline runs every request under the server-side deadline: the
// context that the authenticator, the resolvers and the database work with
// ends after timeout, so nothing waits longer on a locked, frozen or
// unreachable database. What was cut short answers UNAVAILABLE (503), and
// its transaction is rolled back. The handler still writes the answer
// itself: nothing runs on after the client has been told.
func withDeadline(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// graphQLHandler is the one place the GraphQL executor is configured: our
// JSON transport only, parsed-query cache, parser token limit, no field
// suggestions, introspection per setting, shape and complexity limits, the
// rate-limit budget (priced by complexity), the error presenter, the
// recover function and the @auth field middleware.
func graphQLHandler(es graphql.ExecutableSchema, fields graphql.FieldMiddleware, d Deps) *handler.Server {
	gql := handler.New(es)
	gql.AddTransport(jsonTransport{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.SetParserTokenLimit(ParserTokenLimit)
	gql.SetDisableSuggestion(true)
	gql.Use(extension.Introspection{})
	gql.Use(shapeLimits{introspection: d.Introspection}) // after Introspection: it decides who may
	gql.Use(complexityLimit{})
	gql.Use(budget{}) // after the complexity limit: it charges the complexity computed there
	gql.SetErrorPresenter(errorPresenter(d.Log))
	gql.SetRecoverFunc(recoverFunc(d.Log))
	gql.AroundFields(fields)
	return gql
}

func readyz(d Deps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err := d.DB.SQL().PingContext(ctx); err != nil {
			d.Log.WarnContext(ctx, "not ready: database", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","reason":"database"}`))
			return
		}
		current, err := d.Migrator.Current(ctx)
		if err != nil || !current {
			d.Log.WarnContext(ctx, "not ready: migrations", "err", err, "current", current)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","reason":"migrations"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}
}

// limitBody refuses bodies over MaxBodyBytes: at once when Content-Length
// says so, else when reading passes the limit.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeError(w, r, http.StatusRequestEntityTooLarge, apperr.New(apperr.BadUserInput, "request body is larger than 1 MiB"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status code for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// requestContext gives each request an ID (the caller's X-Request-ID when
// incomingRequestID accepts it, else a fresh UUIDv7; echoed as
// X-Request-ID), the
// audit details of the caller's connection (its address as clientIP has
// it, for the audit trail and the rate limits alike), and one access-log
// line.
func requestContext(log *slog.Logger, trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := incomingRequestID(r.Header.Get("X-Request-ID"))
		if id == "" {
			id = uuid.Must(uuid.NewV7()).String()
		}
		ctx := WithRequestID(r.Context(), id)
		ctx = audit.WithRequest(ctx, audit.Request{IP: clientIP(r, trusted), UserAgent: r.UserAgent(), RequestID: id})
		ctx = authz.WithRequest(ctx)
		w.Header().Set("X-Request-ID", id)
		// Every answer says what it is: error messages quote parts of the
		// query, and no browser may guess another type for them.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(ctx))
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return
		}
		// The record is built here rather than by log.LogAttrs, which would
		// look up its caller's program counter for a source attribute the
		// handler never writes (a stack walk per request).
		if h := log.Handler(); h.Enabled(ctx, slog.LevelInfo) {
			line := slog.NewRecord(time.Now(), slog.LevelInfo, "http request", 0)
			line.AddAttrs(slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
				slog.String("duration_ms", strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 3, 64)))
			_ = h.Handle(ctx, line)
		}
	})
}

// MaxRequestIDLength bounds an incoming X-Request-ID: the audit trail's
// request_id column holds 64 characters, and the header, the log and the
// trail must carry the same ID.
const MaxRequestIDLength = 64

// incomingRequestID returns the caller's X-Request-ID when it is 1 to
// MaxRequestIDLength characters of A-Z a-z 0-9 and - _ . : / + = @ (UUIDs,
// W3C trace IDs, the IDs proxies and load balancers set), else "": a value
// with anything else (spaces, quotes, control characters, non-ASCII) is
// replaced, not trimmed, so that what the logs, the audit trail and
// extensions.requestId carry is exactly what the caller can find again.
func incomingRequestID(v string) string {
	if v == "" || len(v) > MaxRequestIDLength {
		return ""
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.:/+=@", c) >= 0:
		default:
			return ""
		}
	}
	return v
}

// recoverHTTP answers a panic outside the GraphQL executor with a masked 500.
func recoverHTTP(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				_ = recoverFunc(log)(r.Context(), p)
				writeError(w, r, http.StatusInternalServerError, apperr.New(apperr.Internal, internalMessage))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Serve listens on addr and serves h until ctx ends, then shuts down
// gracefully: no new connections, in-flight requests get up to grace to
// finish. ready, when not nil, receives the bound address once listening.
func Serve(ctx context.Context, addr string, h http.Handler, grace time.Duration, log *slog.Logger, ready chan<- string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
