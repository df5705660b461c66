package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neosc/neosc/internal/apperr"
)

// TestWriteJSONIsJSONMarshal pins the one-pass writer to the bytes the
// double encoding (json.Marshal over the executor's JSON) used to write:
// field order, omitted keys, and the HTML-safe escapes of <, >, &, U+2028
// and U+2029 in data.
func TestWriteJSONIsJSONMarshal(t *testing.T) {
	type answer struct {
		Errors     gqlerror.List   `json:"errors,omitempty"`
		Data       json.RawMessage `json:"data,omitempty"`
		Extensions map[string]any  `json:"extensions,omitempty"`
	}
	for name, resp := range map[string]graphql.Response{
		"data":               {Data: json.RawMessage(`{"me":{"name":"Ann"}}`), Extensions: map[string]any{"cost": map[string]any{"requested": 3, "limit": 25000}}},
		"null data":          {Data: json.RawMessage(`null`), Errors: gqlerror.List{{Message: "no", Extensions: map[string]any{"code": "NOT_FOUND"}}}},
		"request error":      {Errors: gqlerror.List{{Message: "bad <query> & more", Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}},
		"html in data":       {Data: json.RawMessage(`{"name":"<script>a&b</script>","x":"\u2028\u2029","y":"\\u003c"}`)},
		"nothing":            {},
		"extensions only":    {Extensions: map[string]any{"b": 1, "a": "<"}},
		"unicode and escape": {Data: json.RawMessage(`{"n":"é\"\\\n"}`), Extensions: map[string]any{"requestId": "r-1"}},
	} {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(answer{Errors: resp.Errors, Data: resp.Data, Extensions: resp.Extensions})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			writeJSON(&got, &resp)
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("writeJSON wrote\n%s\njson.Marshal writes\n%s", got.Bytes(), want)
			}
		})
	}
}

// TestWriteErrorBytes pins writeError's typed answer to the bytes the maps
// it replaced wrote (encoding/json sorts map keys).
func TestWriteErrorBytes(t *testing.T) {
	for _, e := range []*apperr.Error{
		apperr.ErrUnauthenticated,
		{Code: apperr.RateLimited, Message: "slow down <now>", RetryAfter: 1500 * time.Millisecond},
		apperr.New(apperr.Internal, "secret detail"),
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil).WithContext(WithRequestID(context.Background(), "req-1"))
		rec := httptest.NewRecorder()
		writeError(rec, r, http.StatusUnauthorized, e)
		msg := e.Message
		if e.Code == apperr.Internal {
			msg = internalMessage
		}
		ext := map[string]any{"code": string(e.Code), "requestId": "req-1"}
		if e.RetryAfter > 0 {
			ext["retryAfter"] = e.RetrySeconds()
		}
		var want bytes.Buffer
		_ = json.NewEncoder(&want).Encode(map[string]any{
			"errors":     []map[string]any{{"message": msg, "extensions": ext}},
			"extensions": map[string]any{"cost": costOf(0)},
		})
		if rec.Body.String() != want.String() {
			t.Errorf("%s: writeError wrote\n%s\nthe maps wrote\n%s", e.Code, rec.Body, want.String())
		}
	}
}
