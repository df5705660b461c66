// Package apperr is the one error vocabulary of the service: every error a
// client can see carries one of the contract's codes, and everything else is
// masked as INTERNAL_SERVER_ERROR by the presenter.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code is an `extensions.code` value from the contract.
type Code string

// The contract's error codes.
const (
	Unauthenticated         Code = "UNAUTHENTICATED"
	Forbidden               Code = "FORBIDDEN"
	NotFound                Code = "NOT_FOUND"
	BadUserInput            Code = "BAD_USER_INPUT"
	Conflict                Code = "CONFLICT"
	QuotaExceeded           Code = "QUOTA_EXCEEDED"
	OrganizationSuspended   Code = "ORGANIZATION_SUSPENDED"
	RateLimited             Code = "RATE_LIMITED"
	ComplexityLimitExceeded Code = "COMPLEXITY_LIMIT_EXCEEDED"
	// Unavailable is retryable: the database could not answer within the
	// request's deadline, or not at all (HTTP 503 with Retry-After).
	Unavailable Code = "UNAVAILABLE"
	Internal    Code = "INTERNAL_SERVER_ERROR"
)

// Error is an error meant for the client: its Message is shown as is, its
// Code becomes `extensions.code`. Field, when set, names the offending input.
// RetryAfter, on a RATE_LIMITED error, is how long the client should wait
// (`extensions.retryAfter` in seconds, and the Retry-After header).
type Error struct {
	Code       Code
	Message    string
	Field      string
	RetryAfter time.Duration
	cause      error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Message + ": " + e.cause.Error()
	}
	return e.Message
}

// Unwrap returns the underlying cause, which is never shown to clients.
func (e *Error) Unwrap() error { return e.cause }

// New returns a client error with the given code and message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BAD_USER_INPUT error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// TooMany returns a RATE_LIMITED error asking the client to retry
// after retryAfter (at least a second: Retry-After counts whole seconds).
func TooMany(retryAfter time.Duration, format string, args ...any) *Error {
	return &Error{Code: RateLimited, Message: fmt.Sprintf(format, args...), RetryAfter: max(retryAfter, time.Second)}
}

// RetrySeconds is RetryAfter in whole seconds, rounded up (0 when unset).
func (e *Error) RetrySeconds() int64 {
	return int64((e.RetryAfter + time.Second - 1) / time.Second)
}

// Wrap returns a client error that keeps cause for logs only.
func Wrap(cause error, code Code, message string) *Error {
	return &Error{Code: code, Message: message, cause: cause}
}

// ErrNotFound is the single answer for "does not exist" and "exists in
// another organization": same code, same message, so the two cannot be told
// apart.
var ErrNotFound = &Error{Code: NotFound, Message: "not found"}

// ErrUnauthenticated is the answer for any token or credential problem.
var ErrUnauthenticated = &Error{Code: Unauthenticated, Message: "authentication required or invalid"}

// ErrForbidden is the answer for a caller in the right organization with too
// small a role.
var ErrForbidden = &Error{Code: Forbidden, Message: "forbidden"}

// ErrUnavailable is the answer when the database could not answer in time
// or is unreachable. Its cause is logged, never shown.
var ErrUnavailable = &Error{Code: Unavailable, Message: "service temporarily unavailable, retry later"}

// As returns the client error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CodeOf returns the code of err: its client code, or INTERNAL_SERVER_ERROR.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}
