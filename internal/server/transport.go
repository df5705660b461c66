package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neosc/neosc/internal/apperr"
)

// MaxBodyBytes is the largest /graphql request body accepted.
const MaxBodyBytes = 1 << 20

// jsonTransport is GraphQL over HTTP as the contract has it: POST with a
// JSON body, or GET with query parameters for queries only. An answer with
// an UNAVAILABLE error has status 503 and Retry-After. It replaces
// gqlgen's POST and GET transports, whose transport-level errors carry no
// error code and echo the request body back.
type jsonTransport struct{}

var _ graphql.Transport = jsonTransport{}

func (jsonTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && (r.Method == http.MethodPost || r.Method == http.MethodGet)
}

func (jsonTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	start := graphql.Now()
	params := &graphql.RawParams{Headers: r.Header}

	fail := func(status int, msg string) {
		respond(ctx, w, status, exec.DispatchError(ctx, gqlerror.List{gqlerror.WrapIfUnwrapped(&protocolError{msg})}))
	}

	switch r.Method {
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			fail(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				fail(http.StatusRequestEntityTooLarge, "request body is larger than 1 MiB")
				return
			}
			fail(http.StatusBadRequest, "could not read request body")
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(params); err != nil {
			fail(http.StatusBadRequest, "request body must be a JSON object with query, variables and operationName")
			return
		}
		if dec.More() {
			fail(http.StatusBadRequest, "request body must hold exactly one JSON object")
			return
		}
	case http.MethodGet:
		q := r.URL.Query()
		params.Query = q.Get("query")
		params.OperationName = q.Get("operationName")
		for name, dst := range map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
			if v := q.Get(name); v != "" {
				dec := json.NewDecoder(bytes.NewReader([]byte(v)))
				dec.UseNumber()
				if err := dec.Decode(dst); err != nil {
					fail(http.StatusBadRequest, name+" must be a JSON object")
					return
				}
			}
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		status := 0
		if rc == nil || rc.Doc == nil {
			status = http.StatusBadRequest // the document did not parse
		}
		respond(ctx, w, status, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	if r.Method == http.MethodGet && rc.Operation != nil && rc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		respond(ctx, w, http.StatusMethodNotAllowed, exec.DispatchError(graphql.WithOperationContext(ctx, rc),
			gqlerror.List{gqlerror.WrapIfUnwrapped(apperr.New(apperr.BadUserInput, "only queries may be sent over GET; send mutations with POST"))}))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	respond(ctx, w, 0, responses(ctx))
}

// respond writes an answer: the request's rate-limit status (headers and
// extensions.rateLimit), then status (0: 200), except that an answer with a
// RATE_LIMITED error is 429 with Retry-After, and one with an UNAVAILABLE
// error 503 with Retry-After.
func respond(ctx context.Context, w http.ResponseWriter, status int, resp *graphql.Response) {
	finishRateLimit(ctx, w.Header(), resp)
	if retry, limited := rateLimited(resp.Errors); limited {
		w.Header().Set("Retry-After", strconv.FormatInt(retry, 10))
		status = http.StatusTooManyRequests
	}
	switch {
	case hasUnavailable(resp.Errors):
		unavailable(w)
	case status != 0:
		w.WriteHeader(status)
	}
	writeJSON(w, resp)
}

func writeJSON(w io.Writer, resp *graphql.Response) {
	capErrors(resp)
	b, err := json.Marshal(resp)
	if err != nil {
		b = []byte(`{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`)
	}
	_, _ = w.Write(b)
}

// capErrors keeps the first MaxErrors errors of an answer and sums the rest
// up in one more, with the code and request ID of the first.
func capErrors(resp *graphql.Response) {
	if len(resp.Errors) <= MaxErrors {
		return
	}
	first := resp.Errors[0]
	more := &gqlerror.Error{
		Message:    fmt.Sprintf("too many errors: %d more not shown", len(resp.Errors)-MaxErrors),
		Extensions: map[string]any{"code": first.Extensions["code"], "requestId": first.Extensions["requestId"]},
	}
	resp.Errors = append(resp.Errors[:MaxErrors:MaxErrors], more)
}
