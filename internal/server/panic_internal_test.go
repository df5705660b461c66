package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestResolverPanicIsMasked drives the production executor setup with a
// resolver set whose dependencies are missing, so a resolver dereferences
// nil: a real panic. The client gets a masked INTERNAL_SERVER_ERROR with the
// request ID; the log has the panic, its stack and the same request ID.
func TestResolverPanicIsMasked(t *testing.T) {
	logs := &lockedLog{}
	log := NewLogger(logs, "json", slog.LevelInfo)
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}})
	pass := func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) }
	gql := graphQLHandler(es, pass, Deps{Log: log})
	actor := &auth.Actor{User: store.User{ID: "u", OrganizationID: "o", Role: store.RoleAdmin}, Organization: store.Organization{ID: "o"}}
	h := requestContext(log, nil, recoverHTTP(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gql.ServeHTTP(w, r.WithContext(auth.WithActor(r.Context(), actor)))
	})))

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ node(id: \"`+ids.Encode(ids.Workspace, ids.New())+`\") { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	body := rec.Body.String()
	reqID := rec.Header().Get("X-Request-ID")
	if !strings.Contains(body, `"code":"INTERNAL_SERVER_ERROR"`) || !strings.Contains(body, reqID) || reqID == "" {
		t.Fatalf("want a masked internal error carrying %q, got %d %s", reqID, rec.Code, body)
	}
	if strings.Contains(body, "nil pointer") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
		t.Errorf("panic details leaked to the client: %s", body)
	}
	out := logs.b.String()
	if !strings.Contains(out, "panic in resolver") || !strings.Contains(out, "nil pointer") || !strings.Contains(out, "goroutine") ||
		!strings.Contains(out, reqID) {
		t.Errorf("log lacks the panic, its stack or the request ID:\n%s", out)
	}
	// The process keeps serving.
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"__typename":"Query"`) {
		t.Errorf("after the panic: %d %s", rec.Code, rec.Body.String())
	}
}
