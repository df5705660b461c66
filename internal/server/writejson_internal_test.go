package server

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
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
