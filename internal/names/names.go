package names

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"

	"github.com/neosc/neosc/internal/apperr"
)

// Clean trims a name (of a person, an organization, a workspace, a token)
// and checks it: not empty, valid UTF-8, at most max characters once
// normalised, and free of the characters Invisible reports (NUL and other
// controls, zero-width characters, the BOM, the soft hyphen, every bidi
// control) and U+FFFD, apart from an emoji presentation selector after a
// symbol ("❤️"). Runs of whitespace, no-break and other Unicode spaces
// included, become one ASCII space, and the result is in NFC, so a name
// typed precomposed or decomposed is stored the same way. field names the
// input in the error (BAD_USER_INPUT).
//
// Clean applies no PRECIS profile: workspace and token names are labels
// shown as typed (no compatibility mapping), and PRECIS would refuse
// characters newer than its Unicode tables, such as a new emoji. Names that
// identify someone go through Display.
func Clean(field, raw string, max int) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", apperr.Invalid(field, "%s must not be empty", field)
	}
	if !utf8.ValidString(s) {
		return "", apperr.Invalid(field, "%s must be valid UTF-8", field)
	}
	prev := rune(0)
	for _, r := range s {
		if r == utf8.RuneError || Invisible(r) && !emojiPresentation(prev, r) {
			return "", apperr.Invalid(field, "%s must not contain control, invisible or bidirectional formatting characters (found U+%04X)", field, r)
		}
		prev = r
	}
	s = norm.NFC.String(strings.Join(strings.Fields(s), " "))
	if utf8.RuneCountInString(s) > max {
		return "", tooLong(field, max)
	}
	return s, nil
}

// Display cleans the name of a person or an organization with Clean, then
// applies the PRECIS Nickname profile (RFC 8266, golang.org/x/text/secure/
// precis): compatibility characters are mapped (NFKC: full-width letters,
// ligatures, "™" becomes "TM"), letter case is kept as typed (the profile
// only lower-cases to compare), and what its FreeformClass disallows is
// refused: private-use, unassigned and other code points a name should not
// hold. Emoji presentation selectors, which the profile disallows, are
// dropped rather than refused, so "❤️" from a phone keyboard reads "❤".
// Display(Display(x)) == Display(x).
func Display(field, raw string, max int) (string, error) {
	s, err := Clean(field, raw, max)
	if err != nil {
		return "", err
	}
	s = strings.Map(func(r rune) rune {
		if r == textStyle || r == emojiStyle {
			return -1
		}
		return r
	}, s)
	out, err := precis.Nickname.String(s)
	if err != nil {
		return "", apperr.Invalid(field, "%s must not contain characters that are not allowed in names", field)
	}
	if utf8.RuneCountInString(out) > max {
		return "", tooLong(field, max)
	}
	return out, nil
}

// Invisible reports whether r is a character that shows nothing of its own
// or changes how its neighbours show: controls (C0, C1, DEL), format
// characters (zero-width space, joiner and non-joiner, word joiner, BOM, soft
// hyphen, every bidi embedding, override, isolate and mark, tag
// characters), line and paragraph separators, variation selectors and the
// other default-ignorable code points (Hangul fillers, the combining
// grapheme joiner), and the Braille blank, a symbol that draws nothing and is
// the usual filler of "blank" user names. Email normalisation refuses them
// too.
func Invisible(r rune) bool {
	return r == brailleBlank || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// brailleBlank is BRAILLE PATTERN BLANK: not whitespace to Unicode, but
// blank on screen.
const brailleBlank = '\u2800'

// The variation selectors that ask for text or emoji presentation.
const (
	textStyle  = '\uFE0E'
	emojiStyle = '\uFE0F'
)

// emojiPresentation reports whether r selects how the symbol before it is
// drawn, as keyboards add after "❤" or "✈".
func emojiPresentation(prev, r rune) bool {
	return (r == textStyle || r == emojiStyle) && unicode.Is(unicode.So, prev)
}

func tooLong(field string, max int) error {
	return apperr.Invalid(field, "%s must be at most %d characters", field, max)
}
