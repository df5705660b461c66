package names

import (
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Skeleton returns the key under which organization names are unique: two
// names that look the same on screen get the same key. It is the UTS #39
// confusable skeleton (github.com/mtibben/confusables, Unicode 13.0 data),
// made case-insensitive:
//
//  1. Default-ignorable code points (zero-width characters, bidi controls,
//     the soft hyphen, variation selectors) are dropped, then NFKC
//     ("Ａｃｍｅ", "𝐀𝐜𝐦𝐞" and "Acme" meet).
//  2. Capital letters become the capital they look like, before case folding
//     loses it: Cyrillic "АСМЕ" and Greek "Νova" read "ACME" and "Nova".
//  3. Until nothing changes: case folding, NFKC, the confusable mapping
//     ("0" → "O", "1" and "I" → "l", "m" → "rn", Cyrillic "е" → "e"), then
//     "i" → "l" so that "AppIe" (capital i) meets "Apple" without "INC" and
//     "inc" parting, and runs of whitespace (and Braille blanks) become one
//     space, trimmed.
//
// Internal spaces matter: "Acme Corp" and "AcmeCorp", "A c m e" and "Acme"
// look different and keep different keys; only the number and kind of
// spaces between words does not count. The key is NFD text meant for
// comparison only, never for display, and may be longer than the name:
// "m" is "rn", and a Hangul syllable can take seven characters, so a name of
// 100 characters can have a key of 700 (2,100 bytes). Letters of one script whose capital and small forms look
// like different Latin letters (Greek "Ν" and "ν") are told apart by case,
// and "i" and "l" share a key, so "Mail" and "Mall" collide: a new name is
// refused rather than an impostor let in. Bidi controls are dropped, not
// applied: a name reversed by a right-to-left override keeps its own key,
// which is why Clean refuses them.
//
// The key is stored in the database. Its output depends on the steps above,
// on the confusables table and on the Unicode tables of golang.org/x/text
// and of Go: any change to them that changes a key (TestSkeletonGolden
// pins known keys) needs a migration that recomputes the stored keys and
// resolves the collisions it finds.
func Skeleton(name string) string {
	s := norm.NFKC.String(strings.Map(func(r rune) rune {
		if ignorable(r) {
			return -1
		}
		return r
	}, name))
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			b.WriteString(confusables.Skeleton(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	s = b.String()
	fold := cases.Fold()
	for range 8 {
		next := norm.NFKC.String(fold.String(s))
		next = strings.ReplaceAll(confusables.Skeleton(next), "i", "l")
		next = strings.Join(strings.FieldsFunc(next, blank), " ")
		if next == s {
			break
		}
		s = next
	}
	return s
}

// ignorable reports whether r has the Unicode property
// Default_Ignorable_Code_Point (derived as in DerivedCoreProperties.txt).
func ignorable(r rune) bool {
	if unicode.Is(unicode.White_Space, r) || unicode.Is(unicode.Prepended_Concatenation_Mark, r) ||
		r >= 0xFFF9 && r <= 0xFFFB || r >= 0x13430 && r <= 0x13440 {
		return false
	}
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector)
}

// blank reports whether r shows as empty space between words.
func blank(r rune) bool { return unicode.IsSpace(r) || r == brailleBlank }
