// Package names checks the free-text names clients give to people,
// organizations, workspaces and tokens, the same way for every service.
package names

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/neosc/neosc/internal/apperr"
)

// Clean trims a name (of a person, an organization, a workspace, a token)
// and checks it: not empty, valid UTF-8, at most max characters, no control
// characters. field names the input in the error.
func Clean(field, raw string, max int) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", apperr.Invalid(field, "%s must not be empty", field)
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return "", apperr.Invalid(field, "%s must be at most %d characters", field, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "", apperr.Invalid(field, "%s must not contain control characters", field)
		}
	}
	return s, nil
}
