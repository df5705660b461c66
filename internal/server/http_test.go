package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/server"
	"github.com/neosc/neosc/internal/testdb"
)

// httpContractCodes are the extensions.code values the contract allows.
var httpContractCodes = map[string]bool{
	"UNAUTHENTICATED": true, "FORBIDDEN": true, "NOT_FOUND": true, "BAD_USER_INPUT": true,
	"CONFLICT": true, "QUOTA_EXCEEDED": true, "ORGANIZATION_SUSPENDED": true, "RATE_LIMITED": true,
	"COMPLEXITY_LIMIT_EXCEEDED": true, "UNAVAILABLE": true, "INTERNAL_SERVER_ERROR": true,
}

// request builds a request to the test server.
func httpRequest(t *testing.T, env *apitest.Env, method, path, contentType string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, env.Server.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// send runs req and checks what every response must have: an X-Request-ID
// header and, on every error, a contract code and the same request ID.
func httpSend(t *testing.T, env *apitest.Env, req *http.Request) *apitest.Response {
	t.Helper()
	r := env.Send(req)
	checkHTTPResponse(t, r)
	return r
}

func checkHTTPResponse(t *testing.T, r *apitest.Response) {
	t.Helper()
	rid := r.Header.Get("X-Request-ID")
	if rid == "" {
		t.Fatalf("response %d has no X-Request-ID header: %s", r.Status, r.Body)
	}
	if !r.Get("errors").Exists() {
		return
	}
	if !json.Valid(r.Body) {
		t.Fatalf("error response is not JSON: %s", r.Body)
	}
	errs := r.Get("errors").Array()
	if len(errs) == 0 {
		t.Fatalf("empty errors list: %s", r.Body)
	}
	for i, e := range errs {
		code := e.Get("extensions.code").String()
		if !httpContractCodes[code] {
			t.Fatalf("error %d has extensions.code %q, not a contract code: %s", i, code, r.Body)
		}
		if got := e.Get("extensions.requestId").String(); got == "" || got != rid {
			t.Fatalf("error %d has extensions.requestId %q, X-Request-ID is %q: %s", i, got, rid, r.Body)
		}
		if e.Get("message").String() == "" {
			t.Fatalf("error %d has no message: %s", i, r.Body)
		}
	}
}

// wantHTTPError checks the status and the first error's code.
func wantHTTPError(t *testing.T, r *apitest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if data := r.Get("data").Raw; data != "" && data != "null" {
		t.Fatalf("refused request has data: %s", r.Body)
	}
	r.Want(t, code)
}

func httpGetGraphQL(t *testing.T, env *apitest.Env, params url.Values) *apitest.Response {
	t.Helper()
	return httpSend(t, env, httpRequest(t, env, http.MethodGet, "/graphql?"+params.Encode(), "", nil))
}

func TestHealthz(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		env.Counter.Reset()
		r := httpSend(t, env, httpRequest(t, env, http.MethodGet, "/healthz", "", nil))
		if r.Status != http.StatusOK {
			t.Fatalf("healthz: %d %s", r.Status, r.Body)
		}
		if n := env.Counter.N(); n != 0 {
			t.Fatalf("healthz ran %d statements:\n%s", n, env.Counter.SQL())
		}
		// The counter does see statements (so the check above can fail).
		env.Do("", `{ __typename }`, nil).OK(t)
		_ = env.Count("SELECT COUNT(*) FROM organizations")
		if env.Counter.N() == 0 {
			t.Fatal("statement counter counts nothing")
		}

		// With the database gone, the process still serves: healthz stays
		// 200 while readyz answers 503.
		if err := d.SQL().Close(); err != nil {
			t.Fatal(err)
		}
		r = httpSend(t, env, httpRequest(t, env, http.MethodGet, "/healthz", "", nil))
		if r.Status != http.StatusOK {
			t.Fatalf("healthz without a database: %d %s", r.Status, r.Body)
		}
		r = httpSend(t, env, httpRequest(t, env, http.MethodGet, "/readyz", "", nil))
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("readyz without a database: %d %s", r.Status, r.Body)
		}
	})
}

func TestReadyz(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		ready := func(want int, step string) {
			t.Helper()
			r := httpSend(t, env, httpRequest(t, env, http.MethodGet, "/readyz", "", nil))
			if r.Status != want {
				t.Fatalf("%s: readyz %d, want %d: %s", step, r.Status, want, r.Body)
			}
			if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Fatalf("%s: readyz Cache-Control %q, want no-store", step, cc)
			}
		}
		ready(http.StatusOK, "migrated")

		testdb.RollBackAll(t, env.Migrator)
		ready(http.StatusServiceUnavailable, "rolled back")

		if _, err := env.Migrator.Up(context.Background()); err != nil {
			t.Fatalf("up: %v", err)
		}
		ready(http.StatusOK, "migrated again")
	})
}

func TestJWKS(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		r := httpSend(t, env, httpRequest(t, env, http.MethodGet, "/.well-known/jwks.json", "", nil))
		if r.Status != http.StatusOK {
			t.Fatalf("jwks: %d %s", r.Status, r.Body)
		}
		if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
			t.Fatalf("jwks Content-Type %q", ct)
		}

		// The raw document: one key, no private member of any key type.
		var raw struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(r.Body, &raw); err != nil {
			t.Fatalf("jwks is not JSON: %v: %s", err, r.Body)
		}
		if len(raw.Keys) != 1 {
			t.Fatalf("jwks has %d keys, want 1: %s", len(raw.Keys), r.Body)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := raw.Keys[0][private]; ok {
				t.Fatalf("jwks key has private member %q: %s", private, r.Body)
			}
		}

		set, err := jwk.Parse(r.Body)
		if err != nil {
			t.Fatalf("jwk.Parse: %v", err)
		}
		if set.Len() != 1 {
			t.Fatalf("set has %d keys, want 1", set.Len())
		}
		key, _ := set.Key(0)
		if key.KeyID() == "" {
			t.Fatal("key has no kid")
		}
		if key.Algorithm().String() == "" {
			t.Fatal("key has no alg")
		}
		if isPrivate, err := jwk.IsPrivateKey(key); err != nil || isPrivate {
			t.Fatalf("key is private (%v, %v)", isPrivate, err)
		}

		// A service token verifies with the published set, by kid and the
		// key's own algorithm.
		token, _, err := env.Tokens.Issue(uuid.NewString(), uuid.NewString())
		if err != nil {
			t.Fatal(err)
		}
		msg, err := jws.Parse([]byte(token))
		if err != nil {
			t.Fatal(err)
		}
		if kid := msg.Signatures()[0].ProtectedHeaders().KeyID(); kid != key.KeyID() {
			t.Fatalf("token kid %q, jwks kid %q", kid, key.KeyID())
		}
		tok, err := jwt.Parse([]byte(token),
			jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(false), jws.WithRequireKid(true)),
			jwt.WithValidate(true), jwt.WithIssuer(apitest.Issuer), jwt.WithAudience(auth.Audience))
		if err != nil {
			t.Fatalf("service token does not verify with the jwks: %v", err)
		}
		if tok.Subject() == "" {
			t.Fatal("verified token has no sub")
		}

		// A token signed by another key does not.
		otherKey, err := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "other.jwk"))
		if err != nil {
			t.Fatal(err)
		}
		other, err := auth.NewTokens(apitest.Issuer, time.Hour, otherKey)
		if err != nil {
			t.Fatal(err)
		}
		foreign, _, err := other.Issue(uuid.NewString(), uuid.NewString())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jwt.Parse([]byte(foreign), jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(false))); err == nil {
			t.Fatal("a token of another key verifies with the jwks")
		}
	})
}

// paddedQuery is a valid GraphQL-over-JSON body of exactly n bytes.
func paddedQuery(t *testing.T, n int) []byte {
	t.Helper()
	head, tail := `{"query":"{ __typename }"`, `}`
	if n < len(head)+len(tail) {
		t.Fatalf("body size %d too small", n)
	}
	b := []byte(head + strings.Repeat(" ", n-len(head)-len(tail)) + tail)
	if !json.Valid(b) || len(b) != n {
		t.Fatal("padded body is wrong")
	}
	return b
}

// unknownLength hides the body's size, so the request goes out chunked.
type unknownLength struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		for _, tc := range []struct {
			name    string
			chunked bool
		}{{"content-length", false}, {"chunked", true}} {
			t.Run(tc.name, func(t *testing.T) {
				post := func(body []byte) *apitest.Response {
					t.Helper()
					var rd io.Reader = bytes.NewReader(body)
					if tc.chunked {
						rd = unknownLength{rd}
					}
					req := httpRequest(t, env, http.MethodPost, "/graphql", "application/json", rd)
					if tc.chunked {
						if req.ContentLength != 0 {
							t.Fatalf("request has Content-Length %d, want unknown", req.ContentLength)
						}
						req.TransferEncoding = []string{"chunked"}
					} else if req.ContentLength != int64(len(body)) {
						t.Fatalf("request has Content-Length %d, want %d", req.ContentLength, len(body))
					}
					return httpSend(t, env, req)
				}

				// Exactly 1 MiB is accepted.
				r := post(paddedQuery(t, server.MaxBodyBytes))
				r.OK(t)
				if got := r.Get("data.__typename").String(); got != "Query" {
					t.Fatalf("1 MiB body: __typename %q: %s", got, r.Body)
				}

				// One byte more is refused, though the request is valid.
				r = post(paddedQuery(t, server.MaxBodyBytes+1))
				wantHTTPError(t, r, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT")

				// Far more is refused too.
				r = post(paddedQuery(t, 3*server.MaxBodyBytes))
				wantHTTPError(t, r, http.StatusRequestEntityTooLarge, "BAD_USER_INPUT")
			})
		}
	})
}

func TestGETQueryAndMutation(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)

		r := httpGetGraphQL(t, env, url.Values{"query": {`{ __typename }`}})
		r.OK(t)
		if got := r.Get("data.__typename").String(); got != "Query" {
			t.Fatalf("GET query: __typename %q: %s", got, r.Body)
		}
		r = httpGetGraphQL(t, env, url.Values{
			"query":         {`query Q($x: Boolean!) { __typename @include(if: $x) }`},
			"variables":     {`{"x": true}`},
			"operationName": {"Q"},
		})
		r.OK(t)
		if got := r.Get("data.__typename").String(); got != "Query" {
			t.Fatalf("GET query with variables: __typename %q: %s", got, r.Body)
		}
		r = httpGetGraphQL(t, env, url.Values{"query": {`{ __typename }`}, "variables": {`not json`}})
		wantHTTPError(t, r, http.StatusBadRequest, "BAD_USER_INPUT")

		const email = "get-mutation@example.test"
		register := `mutation Reg { register(input: {email: "` + email + `", password: "long-enough-password", name: "Get"}) { token } }`
		r = httpGetGraphQL(t, env, url.Values{"query": {register}})
		wantHTTPError(t, r, http.StatusMethodNotAllowed, "BAD_USER_INPUT")
		if allow := r.Header.Get("Allow"); !strings.Contains(allow, "POST") {
			t.Fatalf("405 without Allow: POST (%q)", allow)
		}

		// A document holding both, with the mutation selected.
		r = httpGetGraphQL(t, env, url.Values{"query": {`query Q { __typename } ` + register}, "operationName": {"Reg"}})
		wantHTTPError(t, r, http.StatusMethodNotAllowed, "BAD_USER_INPUT")

		if n := env.Count("SELECT COUNT(*) FROM users WHERE email = ?", email); n != 0 {
			t.Fatalf("a mutation sent over GET created %d users", n)
		}
		// The same mutation over POST works (so the check above can fail).
		env.Do("", register, nil).OK(t)
		if n := env.Count("SELECT COUNT(*) FROM users WHERE email = ?", email); n != 1 {
			t.Fatalf("the mutation over POST created %d users, want 1", n)
		}
	})
}

func TestHTTPContentType(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		body := `{"query":"{ __typename }"}`
		for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"} {
			r := httpSend(t, env, httpRequest(t, env, http.MethodPost, "/graphql", ct, strings.NewReader(body)))
			wantHTTPError(t, r, http.StatusUnsupportedMediaType, "BAD_USER_INPUT")
		}
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
			r := httpSend(t, env, httpRequest(t, env, http.MethodPost, "/graphql", ct, strings.NewReader(body)))
			r.OK(t)
		}
	})
}

func TestHTTPMalformedJSON(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		const marker = "EchoMarker7f3a9c"
		for _, body := range []string{
			`{"query": "{ __typename }" ` + marker,
			`{"query": "` + marker + `"`,
			`["` + marker + `"]`,
			`"` + marker + `"`,
			`{"query": {"` + marker + `": 1}}`,
			`{"query":"{ __typename }"}{"query":"` + marker + `"}`,
			marker,
			``,
		} {
			r := httpSend(t, env, httpRequest(t, env, http.MethodPost, "/graphql", "application/json", strings.NewReader(body)))
			if r.Status != http.StatusBadRequest {
				t.Fatalf("body %q: status %d, want 400: %s", body, r.Status, r.Body)
			}
			r.Want(t, "BAD_USER_INPUT")
			if bytes.Contains(r.Body, []byte(marker)) {
				t.Fatalf("body %q is echoed back: %s", body, r.Body)
			}
		}
	})
}

func TestHTTPSyntaxAndUnknownField(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		for _, q := range []string{
			`{ __typename `,
			`query { me { id }`,
			`mutation { ) }`,
			`{ noSuchField }`,
			`{ __typename noSuchField }`,
			`{ me { noSuchField } }`,
			`query($x: NoSuchType) { __typename }`,
		} {
			r := env.Do("", q, nil)
			checkHTTPResponse(t, r)
			if r.Status != http.StatusOK && r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%q: status %d: %s", q, r.Status, r.Body)
			}
			r.Want(t, "BAD_USER_INPUT")
			if data := r.Get("data").Raw; data != "" && data != "null" {
				t.Fatalf("%q: invalid document has data: %s", q, r.Body)
			}

			r = httpGetGraphQL(t, env, url.Values{"query": {q}})
			r.Want(t, "BAD_USER_INPUT")
		}
	})
}

func TestHTTPMethods(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d)
		for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
			r := httpSend(t, env, httpRequest(t, env, m, "/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`)))
			wantHTTPError(t, r, http.StatusMethodNotAllowed, "BAD_USER_INPUT")
			if allow := r.Header.Get("Allow"); !strings.Contains(allow, "POST") || !strings.Contains(allow, "GET") {
				t.Fatalf("%s: Allow %q, want GET and POST", m, allow)
			}
		}
	})
}
