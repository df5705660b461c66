package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neosc/neosc/internal/apperr"
)

// internalMessage is all a client learns of an internal error.
const internalMessage = "internal server error"

// errorPresenter maps every error to the contract: client errors keep their
// code and message; parse and validation errors become BAD_USER_INPUT;
// everything else is masked (no SQL, no driver text) and logged with the
// request ID that the client also gets.
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
			if ae.Code == apperr.Internal {
				out.Message = internalMessage
				log.ErrorContext(ctx, "internal error", "err", err.Error(), "path", gqlErr.Path.String())
			}
		} else if c, _ := gqlErr.Extensions["code"].(string); c == string(apperr.ComplexityLimitExceeded) {
			code = apperr.ComplexityLimitExceeded
		} else if c == errcode.ParseFailed || c == errcode.ValidationFailed ||
			gqlErr.Rule != "" || isProtocolError(err) {
			code = apperr.BadUserInput
		} else {
			log.ErrorContext(ctx, "internal error", "err", err.Error(), "path", gqlErr.Path.String())
			out.Message = internalMessage
		}
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

// writeError writes a GraphQL-shaped error response outside the executor
// (with Retry-After for a RATE_LIMITED error).
func writeError(w http.ResponseWriter, r *http.Request, status int, e *apperr.Error) {
	msg := e.Message
	if e.Code == apperr.Internal {
		msg = internalMessage
	}
	ext := map[string]any{"code": string(e.Code), "requestId": RequestID(r.Context())}
	if e.RetryAfter > 0 {
		ext["retryAfter"] = e.RetrySeconds()
		w.Header().Set("Retry-After", strconv.FormatInt(e.RetrySeconds(), 10))
	}
	body := map[string]any{
		"errors": []map[string]any{{
			"message":    msg,
			"extensions": ext,
		}},
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
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
