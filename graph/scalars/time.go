// Package scalars binds the schema's Time scalar to time.Time: written as
// RFC 3339 in UTC, read from RFC 3339 with an input error (BAD_USER_INPUT)
// for anything else.
package scalars

import (
	"io"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/neosc/neosc/internal/apperr"
)

// MarshalTime writes t as RFC 3339 with nanoseconds, in UTC.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		// RFC 3339 text needs no escaping: quoted by hand, in a buffer on
		// the stack (a time per row of every page).
		var buf [48]byte
		b := append(buf[:0], '"')
		b = append(t.UTC().AppendFormat(b, time.RFC3339Nano), '"')
		_, _ = w.Write(b)
	})
}

// UnmarshalTime reads an RFC 3339 string.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, apperr.New(apperr.BadUserInput, "Time must be an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, apperr.New(apperr.BadUserInput, "Time must be an RFC 3339 string, like 2006-01-02T15:04:05Z")
	}
	return t.UTC(), nil
}
