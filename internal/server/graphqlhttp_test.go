package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/server"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/webtest"
)

// What Apollo Client 4 sends.
const acceptGraphQLResponse = "application/graphql-response+json,application/json;q=0.9"

// post sends a GraphQL request with an Accept header (and a token, when
// not "").
func post(t *testing.T, env *apitest.Env, accept, token, body string) *apitest.Response {
	t.Helper()
	req := httpRequest(t, env, http.MethodPost, "/graphql", "application/json", strings.NewReader(body))
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return httpSend(t, env, req)
}

func queryBody(t *testing.T, q string, vars map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantRequestError: status, code, and no data key at all (nothing ran).
func wantRequestError(t *testing.T, r *apitest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if r.Get("data").Exists() {
		t.Fatalf("a request error has a data key: %s", r.Body)
	}
	r.Want(t, code)
}

func wantMediaType(t *testing.T, r *apitest.Response, want string) {
	t.Helper()
	if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, want) {
		t.Fatalf("Content-Type %q, want %s: %s", got, want, r.Body)
	}
}

// TestApolloClientLostExtensionsCodeOn401And400: Apollo Client 4 asks for
// application/graphql-response+json and reads the body of a non-2xx answer
// only in that media type; a 401 or 400 in application/json lost its
// extensions.code. Now every answer, the ones written before the executor
// (401 of the authenticator, 413, 415, 429) included, comes in the media
// type asked for, and request errors have 4xx and no data key.
func TestApolloClientLostExtensionsCodeOn401And400(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		acc := env.Register("apollo@example.com", "Apollo")
		me := queryBody(t, `{ me { id } }`, nil)

		r := post(t, env, acceptGraphQLResponse, "not-a-token", me)
		wantRequestError(t, r, http.StatusUnauthorized, "UNAUTHENTICATED")
		wantMediaType(t, r, "application/graphql-response+json")

		for name, q := range map[string]string{
			"parse":      `{ me { id }`,
			"validation": `{ me { noSuchField } }`,
			"variables":  `query($n: Int!) { me { id } }`,
		} {
			t.Run(name, func(t *testing.T) {
				r := post(t, env, acceptGraphQLResponse, acc.Token, queryBody(t, q, map[string]any{"n": "x"}))
				wantRequestError(t, r, http.StatusBadRequest, "BAD_USER_INPUT")
				wantMediaType(t, r, "application/graphql-response+json")
				// The same request in application/json: 200, as the
				// specification asks of that media type (400 before for a
				// document that did not parse), still without data.
				r = post(t, env, "application/json", acc.Token, queryBody(t, q, map[string]any{"n": "x"}))
				wantRequestError(t, r, http.StatusOK, "BAD_USER_INPUT")
				wantMediaType(t, r, "application/json")
			})
		}

		// Over the complexity limit: a request error too.
		huge := `{ organizations(first: 100) { nodes { users(first: 100) { nodes { organization { workspaces(first: 100) { nodes { id } } } } } } } }`
		r = post(t, env, acceptGraphQLResponse, acc.Token, queryBody(t, huge, nil))
		wantRequestError(t, r, http.StatusBadRequest, "COMPLEXITY_LIMIT_EXCEEDED")

		// Not JSON, no query, wrong Content-Type: 4xx in both.
		for _, accept := range []string{acceptGraphQLResponse, "application/json"} {
			wantRequestError(t, post(t, env, accept, acc.Token, `{"query": `), http.StatusBadRequest, "BAD_USER_INPUT")
			wantRequestError(t, post(t, env, accept, acc.Token, `{"qeury": "{ __typename }"}`), http.StatusBadRequest, "BAD_USER_INPUT")
			req := httpRequest(t, env, http.MethodPost, "/graphql", "text/plain", strings.NewReader(me))
			req.Header.Set("Accept", accept)
			wantRequestError(t, httpSend(t, env, req), http.StatusUnsupportedMediaType, "BAD_USER_INPUT")
		}

		// An execution error: 200 with data, in either media type.
		for _, accept := range []string{acceptGraphQLResponse, "application/json", "", "*/*"} {
			r = post(t, env, accept, acc.Token, queryBody(t, `{ me { id } organization(id: "T3JnYW5pemF0aW9uOm5vbmU") { id } }`, nil))
			if r.Status != http.StatusOK || !r.Get("data.me.id").Exists() || r.Code() == "" {
				t.Fatalf("Accept %q: an execution error: %d %s", accept, r.Status, r.Body)
			}
			want := "application/json"
			if accept == acceptGraphQLResponse {
				want = "application/graphql-response+json"
			}
			wantMediaType(t, r, want)
		}
	})
}

func TestResponseMediaType(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	env := apitest.New(t, d)
	for accept, want := range map[string]string{
		"":                                  "application/json",
		"*/*":                               "application/json",
		"application/json":                  "application/json",
		"text/html":                         "application/json",
		"application/graphql-response+json": "application/graphql-response+json",
		acceptGraphQLResponse:               "application/graphql-response+json",
		"application/json, application/graphql-response+json;q=0.5": "application/json",
		"application/graphql-response+json;q=0, application/json":   "application/json",
		"application/graphql-response+json; charset=utf-8":          "application/graphql-response+json",
	} {
		r := post(t, env, accept, "", `{"query":"{ __typename }"}`).OK(t)
		wantMediaType(t, r, want)
	}
}

// TestComplexityAlwaysSaid5001: the cost saturated at the limit + 1, so
// every refusal said "complexity 5001", and the console's platform
// overview was refused. Now the limit fits the console's queries, the
// error says the computed cost and the limit, and every answer carries
// extensions.cost {requested limit}.
func TestComplexityAlwaysSaid5001(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		admin := env.Register("operator@cost.test", "Cost")
		env.Exec("UPDATE users SET platform_admin = TRUE WHERE email = ?", admin.Email)

		console := map[string]struct {
			query string
			cost  int64
		}{
			"platform overview": {`{ organizations(first: 100) { nodes { workspaces { nodes { id } } } } }`,
				1 + 100*(1+(1+20*(1+1)))},
			"organizations list": {`{ organizations(first: 100) { nodes { id name slug domain status userCount workspaceCount } pageInfo { hasNextPage endCursor } totalCount } }`,
				1 + 100*(1+7) + 3 + 1},
			"organization page": {`query($id: ID!) { organization(id: $id) {
				id name slug domain status userCount workspaceCount createdAt
				users(first: 50) { nodes { id email name role status platformAdmin createdAt lastLoginAt } pageInfo { hasNextPage endCursor } totalCount }
				workspaces(first: 50) { nodes { id name description type connectionType status cpuCores memoryMb storageGb createdAt
					grants(first: 20) { nodes { id status createdAt expiresAt granteeOrganization { id name } } pageInfo { hasNextPage endCursor } } }
					pageInfo { hasNextPage endCursor } totalCount }
				apiTokens(first: 50) { nodes { id name scopes expiresAt createdAt lastUsedAt revokedAt } pageInfo { hasNextPage endCursor } }
				auditEvents(first: 50, filter: { outcome: DENIED }) { nodes { id action outcome actorId actorEmail targetType targetId metadata ipAddress userAgent requestId createdAt } pageInfo { hasNextPage endCursor } }
			} }`, 0},
		}
		for name, q := range console {
			r := env.Do(admin.Token, q.query, map[string]any{"id": admin.OrgID}).OK(t)
			got := r.Get("extensions.cost.requested").Int()
			if q.cost != 0 && got != q.cost {
				t.Errorf("%s: extensions.cost %s, want requested %d", name, r.Get("extensions.cost").Raw, q.cost)
			}
			if got < 100 || got > server.MaxComplexity/2 || r.Get("extensions.cost.limit").Int() != server.MaxComplexity {
				t.Errorf("%s: cost %s does not leave room under the limit", name, r.Get("extensions.cost").Raw)
			}
			t.Logf("%s: cost %d", name, got)
		}

		// Too expensive: the message names the cost and the limit.
		q := `{ organizations(first: 100) { nodes { workspaces(first: 100) { nodes { grants(first: 100) { nodes { id } } } } } } }`
		want := 1 + 100*(1+(1+100*(1+(1+100*(1+1)))))
		r := env.Do(admin.Token, q, nil).Want(t, "COMPLEXITY_LIMIT_EXCEEDED")
		if msg := r.Message(); !strings.Contains(msg, decimal(want)) || !strings.Contains(msg, decimal(server.MaxComplexity)) || strings.Contains(msg, decimal(server.MaxComplexity+1)) {
			t.Errorf("message %q: want the cost %d and the limit %d", msg, want, server.MaxComplexity)
		}
		if got := r.Get("extensions.cost.requested").Int(); got != int64(want) {
			t.Errorf("refusal: extensions.cost %s, want requested %d", r.Get("extensions.cost").Raw, want)
		}
		// Huge page sizes nested deep saturate, far above the limit.
		r = env.Do(admin.Token, `query($big: Int) { organizations(first: 2147483647) { nodes { users(first: $big) { nodes { organization {
			workspaces(first: 2147483647) { nodes { organization { users(first: 1000) { nodes { id email name role status platformAdmin createdAt lastLoginAt emailVerified ssoIssuer } } } } } } } } } } }`,
			map[string]any{"big": 2147483647}).Want(t, "COMPLEXITY_LIMIT_EXCEEDED")
		if !strings.Contains(r.Message(), decimal(server.ComplexityCeiling)) {
			t.Errorf("saturated message %q", r.Message())
		}
		if got := r.Get("extensions.cost.requested").Int(); got != server.ComplexityCeiling {
			t.Errorf("saturated: extensions.cost %s", r.Get("extensions.cost").Raw)
		}

		// extensions.cost on every answer, priced or not.
		for name, r := range map[string]*apitest.Response{
			"parse error": env.Do(admin.Token, `{`, nil),
			"anonymous":   env.Do("", `{ __typename }`, nil),
			"bad token":   env.Do("bad", `{ me { id } }`, nil),
			"bad JSON":    post(t, env, "", admin.Token, `{`),
		} {
			if r.Get("extensions.cost.limit").Int() != server.MaxComplexity || !r.Get("extensions.cost.requested").Exists() {
				t.Errorf("%s: no extensions.cost: %s", name, r.Body)
			}
		}
	})
}

func decimal(n int) string { return strconv.Itoa(n) }

// introspectionQueries are the texts graphql-js's getIntrospectionQuery
// makes (testdata/introspection, see web/test/introspection-queries.mjs).
func introspectionQueries(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "introspection", "*.graphql"))
	if err != nil || len(files) != 3 {
		t.Fatalf("introspection testdata: %v %v", files, err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".graphql")] = string(b)
	}
	return out
}

// TestIntrospectionQueryTextsAreGraphQLJs: the committed texts are what the
// pinned graphql-js makes today.
func TestIntrospectionQueryTextsAreGraphQLJs(t *testing.T) {
	node := webtest.Node(t)
	cmd := exec.Command(node, filepath.Join("web", "test", "introspection-queries.mjs"))
	cmd.Dir = webtest.Root()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("introspection-queries.mjs: %v", err)
	}
	var fresh map[string]string
	if err := json.Unmarshal(out, &fresh); err != nil {
		t.Fatal(err)
	}
	committed := introspectionQueries(t)
	if len(fresh) != len(committed) {
		t.Fatalf("graphql-js makes %d queries, testdata has %d", len(fresh), len(committed))
	}
	for name, text := range fresh {
		if committed[name] != text {
			t.Errorf("testdata/introspection/%s.graphql differs from graphql-js's; regenerate it (see web/test/introspection-queries.mjs)", name)
		}
	}
}

// TestIntrospectionRefusedAtDepth13: graphql-js's standard introspection
// query (GraphiQL's, Postman's, codegen's) was refused with "query depth 13
// exceeds the limit of 12". Introspection's depth is not counted now; its
// fields are, and the limits still bind the rest of the operation.
func TestIntrospectionRefusedAtDepth13(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		acc := env.Register("tools@example.com", "Tools")
		public := apitest.New(t, d, apitest.WithIntrospection("public"), apitest.WithSigningKey(env.Key))
		off := apitest.New(t, d, apitest.WithIntrospection("off"), apitest.WithSigningKey(env.Key))
		for name, q := range introspectionQueries(t) {
			t.Run(name, func(t *testing.T) {
				for _, accept := range []string{"application/json", acceptGraphQLResponse} {
					body := queryBody(t, q, nil)
					r := post(t, env, accept, acc.Token, body).OK(t)
					types := r.Get("data.__schema.types.#.name").Array()
					if len(types) < 20 || !strings.Contains(r.Get("data.__schema.types.#.name").Raw, `"Organization"`) {
						t.Fatalf("introspection returned %d types: %.300s", len(types), r.Body)
					}
					if r.Get("extensions.cost.requested").Int() != 0 {
						t.Errorf("introspection was priced: %s", r.Get("extensions.cost").Raw)
					}
					// NEOSC_INTROSPECTION still decides for whom.
					post(t, env, accept, "", body).Want(t, "UNAUTHENTICATED")
					post(t, public, accept, "", body).OK(t)
					post(t, off, accept, acc.Token, body).Want(t, "FORBIDDEN")
				}
			})
		}

		// Still bounded: fields count, depth outside introspection counts.
		var many strings.Builder
		many.WriteString("{ ")
		for i := 0; i < server.MaxFields/4+1; i++ {
			many.WriteString("t" + decimal(i) + `: __type(name: "User") { name fields { name type { name } } } `)
		}
		many.WriteString("}")
		r := env.Do(acc.Token, many.String(), nil).Want(t, "COMPLEXITY_LIMIT_EXCEEDED")
		if !strings.Contains(r.Message(), "fields") {
			t.Errorf("message %q", r.Message())
		}
		// Aliased introspection: 70 copies of __schema answered 4 MB for one
		// point of the budget before they were counted.
		aliases := func(n int, field string) string {
			var b strings.Builder
			b.WriteString("{ ")
			for i := 0; i < n; i++ {
				b.WriteString("s" + decimal(i) + ": " + field + " ")
			}
			return b.String() + "}"
		}
		for name, q := range map[string]string{
			"70 aliases of __schema": aliases(70, `__schema { types { description fields { description args { description } } } }`),
			"2 aliases of __schema":  aliases(2, `__schema { queryType { name } }`),
			"__schema twice through a fragment": `query { ...S a: __schema { queryType { name } } }
				fragment S on Query { __schema { queryType { name } } }`,
			"11 aliases of __type": aliases(server.MaxTypeIntrospections+1, `__type(name: "User") { name }`),
		} {
			r := env.Do(acc.Token, q, nil).Want(t, "COMPLEXITY_LIMIT_EXCEEDED")
			if !strings.Contains(r.Message(), "__schema at most") || r.Get("data").Exists() {
				t.Errorf("%s: %s", name, r.Body)
			}
		}
		env.Do(acc.Token, aliases(server.MaxTypeIntrospections, `__type(name: "User") { name }`), nil).OK(t)

		deepOwn := hostilePayloads(acc.OrgID)["depth 100"]
		deepOwn = strings.Replace(deepOwn, "{ organization", `{ __schema { types { name } } organization`, 1)
		r = env.Do(acc.Token, deepOwn, nil).Want(t, "COMPLEXITY_LIMIT_EXCEEDED")
		if !strings.Contains(r.Message(), "depth") {
			t.Errorf("message %q", r.Message())
		}
	})
}
