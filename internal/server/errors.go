package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/store"
)

// internalMessage is all a client learns of an internal error.
const internalMessage = "internal server error"

// suggestion is the validator's hint at a name of the schema ("Did you
// mean \"me\"?", "Did you mean the enum value \"DEV\"?"): removed from every
// message for every caller, so that typos do not map the schema for anyone
// introspection is closed to.
var suggestion = regexp.MustCompile(`\s*Did you mean [^?]*\?`)

// MaxErrors is how many errors one answer lists; past it, one more error
// says how many were left out (a document of 5,000 bad directives must not
// become a 2 MB answer).
const MaxErrors = 20

// errorPresenter maps every error to the contract: client errors keep their
// code and message; parse and validation errors become BAD_USER_INPUT; a
// database that could not answer in time (store.Unavailable) becomes
// UNAVAILABLE; everything else is masked (no SQL, no driver text) as
// INTERNAL_SERVER_ERROR. Causes are logged with the request ID that the
// client also gets.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		out := &gqlerror.Error{Message: gqlErr.Message, Path: gqlErr.Path, Locations: gqlErr.Locations}
		code := apperr.Internal
		if ae, ok := apperr.As(err); ok {
			code, out.Message = ae.Code, ae.Message
			if ae.Field != "" {
				out.Extensions = map[string]any{"field": ae.Field}
			}
			if ae.RetryAfter > 0 {
				if out.Extensions == nil {
					out.Extensions = map[string]any{}
				}
				out.Extensions["retryAfter"] = ae.RetrySeconds()
			}
		} else if c, _ := gqlErr.Extensions["code"].(string); c == string(apperr.ComplexityLimitExceeded) {
			code = apperr.ComplexityLimitExceeded
		} else if c == errcode.ParseFailed || c == errcode.ValidationFailed ||
			gqlErr.Rule != "" || isProtocolError(err) {
			code = apperr.BadUserInput
		}
		switch {
		case code == apperr.Internal && store.Unavailable(ctx, err):
			code, out.Message = apperr.Unavailable, apperr.ErrUnavailable.Message
			log.WarnContext(ctx, "database unavailable", "err", err.Error(), "path", gqlErr.Path.String())
		case code == apperr.Internal:
			out.Message = internalMessage
			log.ErrorContext(ctx, "internal error", "err", err.Error(), "path", gqlErr.Path.String())
		}
		out.Message = suggestion.ReplaceAllString(out.Message, "")
		if out.Extensions == nil {
			out.Extensions = map[string]any{}
		}
		out.Extensions["code"] = string(code)
		out.Extensions["requestId"] = RequestID(ctx)
		return out
	}
}

// protocolError is a request-level problem found before execution (bad
// JSON, bad variables): the client's fault, safe to show.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func isProtocolError(err error) bool {
	var pe *protocolError
	return errors.As(err, &pe)
}

// recoverFunc turns a resolver panic into a masked internal error, logging
// the panic and its stack with the request ID.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return apperr.New(apperr.Internal, internalMessage)
	}
}

// RetryAfter is the Retry-After of an UNAVAILABLE answer: long enough for a
// lock to be released or a database to come back, short enough that a
// client retrying after it rarely waits for nothing.
const RetryAfter = 5 * time.Second

// unavailable sets what every UNAVAILABLE answer carries besides its body:
// status 503 and Retry-After.
func unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	w.WriteHeader(http.StatusServiceUnavailable)
}

// hasUnavailable reports whether an answer holds an UNAVAILABLE error.
func hasUnavailable(errs gqlerror.List) bool {
	for _, e := range errs {
		if e.Extensions["code"] == string(apperr.Unavailable) {
			return true
		}
	}
	return false
}

// writeError writes a GraphQL-shaped error response outside the executor
// (an UNAVAILABLE one with status 503 and Retry-After, whatever status
// says), in the media type the client accepts (so that a client asking for
// application/graphql-response+json reads extensions.code of a 401 or 429
// too), with no data key and a cost of 0: nothing was priced.
// errorAnswer is the answer of a request refused before the executor:
// typed, so that encoding it reflects over no map, with the fields in the
// order encoding/json writes a map's keys (the bytes the maps wrote).
type errorAnswer struct {
	Errors     []errorEntry `json:"errors"`
	Extensions struct {
		Cost struct {
			Limit     int `json:"limit"`
			Requested int `json:"requested"`
		} `json:"cost"`
	} `json:"extensions"`
}

type errorEntry struct {
	Extensions errorExtensions `json:"extensions"`
	Message    string          `json:"message"`
}

type errorExtensions struct {
	Code       string `json:"code"`
	RequestID  string `json:"requestId"`
	RetryAfter *int64 `json:"retryAfter,omitempty"`
}

func writeError(w http.ResponseWriter, r *http.Request, status int, e *apperr.Error) {
	msg := e.Message
	if e.Code == apperr.Internal {
		msg = internalMessage
	}
	body := errorAnswer{Errors: []errorEntry{{Message: msg,
		Extensions: errorExtensions{Code: string(e.Code), RequestID: RequestID(r.Context())}}}}
	body.Extensions.Cost.Limit = MaxComplexity
	if e.RetryAfter > 0 {
		retry := e.RetrySeconds()
		body.Errors[0].Extensions.RetryAfter = &retry
		w.Header().Set("Retry-After", strconv.FormatInt(retry, 10))
	}
	w.Header().Set("Content-Type", contentType(responseMediaType(r)))
	w.Header().Set("Cache-Control", "no-store")
	if e.Code == apperr.Unavailable {
		unavailable(w)
	} else {
		w.WriteHeader(status)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// rateLimited returns the longest Retry-After (seconds) of the answer's
// RATE_LIMITED errors, and whether there is one.
func rateLimited(errs gqlerror.List) (int64, bool) {
	var (
		retry int64
		found bool
	)
	for _, e := range errs {
		if e == nil || e.Extensions["code"] != string(apperr.RateLimited) {
			continue
		}
		found = true
		if s, ok := e.Extensions["retryAfter"].(int64); ok {
			retry = max(retry, s)
		}
	}
	return max(retry, 1), found
}
