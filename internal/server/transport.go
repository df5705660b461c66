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
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neosc/neosc/internal/apperr"
)

// MaxBodyBytes is the largest /graphql request body accepted.
const MaxBodyBytes = 1 << 20

// jsonTransport is GraphQL over HTTP as the contract and the GraphQL over
// HTTP specification have it: POST with a JSON body, or GET with query
// parameters for queries only. The answer's media type follows the Accept
// header (responseMediaType):
//
//   - application/json (the default, also for */* and no Accept): a request
//     that could not be read (bad JSON, no query, wrong Content-Type, too
//     large) is 4xx; a document that does not parse or validate, bad
//     variables, a refused shape or complexity, and every execution error
//     are 200 with errors, as the specification asks of this media type.
//   - application/graphql-response+json: every request error (nothing was
//     executed) is 4xx, 400 for a document that does not parse or validate
//     and for bad variables; execution errors are 200.
//
// Either way an answer that executed nothing has no data key, a
// RATE_LIMITED answer is 429 with Retry-After and an UNAVAILABLE one 503
// with Retry-After. It replaces gqlgen's POST and GET transports, whose
// transport-level errors carry no error code and echo the request body
// back.
type jsonTransport struct{}

var _ graphql.Transport = jsonTransport{}

func (jsonTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && (r.Method == http.MethodPost || r.Method == http.MethodGet)
}

func (jsonTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := withCost(r.Context())
	media := responseMediaType(r)
	w.Header().Set("Content-Type", contentType(media))
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
	if params.Query == "" {
		fail(http.StatusBadRequest, "request has no query")
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		// A well-formed request whose document did not parse or validate,
		// whose variables did not coerce or whose shape, complexity or
		// budget was refused: nothing ran.
		status := 0
		if media == mediaGraphQLResponse {
			status = http.StatusBadRequest
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
// extensions.rateLimit) and its cost (extensions.cost), then status (0:
// 200), except that an answer with a RATE_LIMITED error is 429 with
// Retry-After, and one with an UNAVAILABLE error 503 with Retry-After.
func respond(ctx context.Context, w http.ResponseWriter, status int, resp *graphql.Response) {
	finishRateLimit(ctx, w.Header(), resp)
	addCost(ctx, resp)
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

// writeJSON writes a graphql.Response in one pass: {"errors", "data",
// "extensions"} in that order, errors and extensions encoded with
// encoding/json, and data (the executor's own JSON, valid by construction)
// copied as it is instead of being parsed and compacted again by
// json.Marshal. data is written only when the operation ran (it may be
// null then), so a request error has no data key, as the GraphQL over HTTP
// specification asks. The bytes are those json.Marshal wrote: <, >, &,
// U+2028 and U+2029 in data are escaped the same way (htmlSafe).
func writeJSON(w io.Writer, resp *graphql.Response) {
	capErrors(resp)
	buf := bytes.NewBuffer(make([]byte, 0, len(resp.Data)+256))
	buf.WriteByte('{')
	sep := false
	field := func(name string) {
		if sep {
			buf.WriteByte(',')
		}
		sep = true
		buf.WriteString(`"` + name + `":`)
	}
	if len(resp.Errors) > 0 {
		b, err := json.Marshal(resp.Errors)
		if err != nil {
			_, _ = w.Write([]byte(internalAnswer))
			return
		}
		field("errors")
		buf.Write(b)
	}
	if len(resp.Data) > 0 {
		field("data")
		htmlSafe(buf, resp.Data)
	}
	if len(resp.Extensions) > 0 {
		b, err := json.Marshal(resp.Extensions)
		if err != nil {
			_, _ = w.Write([]byte(internalAnswer))
			return
		}
		field("extensions")
		buf.Write(b)
	}
	buf.WriteByte('}')
	_, _ = w.Write(buf.Bytes())
}

const internalAnswer = `{"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`

// htmlSafe appends JSON src to buf with <, >, &, U+2028 and U+2029 escaped
// as json.Marshal escapes them (json.HTMLEscape); src without any of them
// (the usual answer) is copied as it is.
func htmlSafe(buf *bytes.Buffer, src []byte) {
	for _, c := range []byte{'<', '>', '&', 0xE2} { // 0xE2: the first byte of U+2028 and U+2029
		if bytes.IndexByte(src, c) >= 0 {
			json.HTMLEscape(buf, src)
			return
		}
	}
	buf.Write(src)
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

// The media types of answers.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// contentType is the Content-Type of an answer of media type m.
func contentType(m string) string {
	if m == mediaGraphQLResponse {
		return mediaGraphQLResponse + "; charset=utf-8"
	}
	return mediaJSON
}

// responseMediaType picks the media type of the answer from the Accept
// header: application/graphql-response+json when the client accepts it at
// least as much as application/json, else application/json (also for no
// Accept, */* or neither named: the specification's legacy default).
func responseMediaType(r *http.Request) string {
	qJSON, qGraphQL := -1.0, -1.0
	for _, h := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
			switch mt {
			case mediaGraphQLResponse:
				qGraphQL = max(qGraphQL, q)
			case mediaJSON:
				qJSON = max(qJSON, q)
			}
		}
	}
	if qGraphQL > 0 && qGraphQL >= qJSON {
		return mediaGraphQLResponse
	}
	return mediaJSON
}
