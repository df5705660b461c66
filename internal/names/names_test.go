package names_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/names"
)

// wantInvalid fails unless err is BAD_USER_INPUT about field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadUserInput || e.Field != field {
		t.Fatalf("error = %v, want BAD_USER_INPUT on %q", err, field)
	}
}

func TestCleanKeepsOrdinaryNames(t *testing.T) {
	// Names the API tests and seed data use: Clean must not change them.
	for _, name := range []string{"Acme", "Globex", "dev-box", "Acme Two", "Default Organization", "mine now", "x", "Zoë", "李小龍", "🚀 Launch", "❤️ Team", "שלום"} {
		if got, err := names.Clean("name", name, 100); err != nil || got != name {
			t.Errorf("Clean(%q) = %q, %v; want it unchanged", name, got, err)
		}
	}
}

func TestCleanNormalises(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"happy path, trimmed", "  Acme \n", "Acme"},
		{"double space inside", "Default  Organization", "Default Organization"},
		{"no-break space inside", "Default\u00a0Organization", "Default Organization"},
		{"no-break space at the end", "Acme\u00a0", "Acme"},
		{"ideographic space", "Default\u3000Organization", "Default Organization"},
		{"NFD becomes NFC", "E\u0301lise", "\u00c9lise"},
		{"case kept", "ACME", "ACME"},
		{"full-width kept (no PRECIS in Clean)", "Ａｃｍｅ", "Ａｃｍｅ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := names.Clean("name", tc.raw, 100); err != nil || got != tc.want {
				t.Errorf("Clean(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
		})
	}
}

func TestCleanCollapsesEveryUnicodeSpace(t *testing.T) {
	each(unicode.Zs, func(r rune) {
		raw := "Default" + string(r) + string(r) + "Organization" + string(r)
		if got, err := names.Clean("organization", raw, 100); err != nil || got != "Default Organization" {
			t.Errorf("U+%04X: Clean = %q, %v; want %q", r, got, err, "Default Organization")
		}
	})
}

// TestCleanRefusesInvisibleCharacters loops over every control (Cc), format
// (Cf: zero-width characters, BOM, soft hyphen, every bidi control), line
// and paragraph separator, and other default-ignorable code point, taken
// from Go's Unicode tables rather than from the code under test, and puts
// each in the middle and at both ends of a name.
func TestCleanRefusesInvisibleCharacters(t *testing.T) {
	named := map[string]rune{
		"NUL": 0, "zero-width space": 0x200B, "zero-width non-joiner": 0x200C, "zero-width joiner": 0x200D,
		"word joiner": 0x2060, "BOM": 0xFEFF, "soft hyphen": 0x00AD, "LRE": 0x202A, "RLE": 0x202B,
		"PDF": 0x202C, "LRO": 0x202D, "RLO": 0x202E, "LRI": 0x2066, "RLI": 0x2067, "FSI": 0x2068,
		"PDI": 0x2069, "LRM": 0x200E, "RLM": 0x200F, "ALM": 0x061C, "Hangul filler": 0x3164,
		"combining grapheme joiner": 0x034F, "line separator": 0x2028, "tag space": 0xE0020,
		"variation selector after a letter": 0xFE0F, "replacement character": 0xFFFD, "Braille blank": 0x2800,
	}
	for name, r := range named {
		t.Run(name, func(t *testing.T) {
			_, err := names.Clean("organization", "Ac"+string(r)+"me", 100)
			wantInvalid(t, err, "organization")
		})
	}
	count := 0
	for _, tbl := range []*unicode.RangeTable{unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector} {
		each(tbl, func(r rune) {
			count++
			for _, raw := range []string{"Ac" + string(r) + "me", string(r) + "Acme", "Acme" + string(r)} {
				if unicode.IsSpace(r) && raw != "Ac"+string(r)+"me" {
					continue // trimmed at the ends, as TrimSpace always did
				}
				if got, err := names.Clean("name", raw, 100); err == nil {
					t.Errorf("Clean(%+q) = %q, want an error", raw, got)
				} else {
					wantInvalid(t, err, "name")
				}
			}
		})
	}
	if count < 500 {
		t.Fatalf("looped over %d characters only", count)
	}
}

func each(tbl *unicode.RangeTable, f func(rune)) {
	for _, r16 := range tbl.R16 {
		for r := rune(r16.Lo); r <= rune(r16.Hi); r += rune(r16.Stride) {
			f(r)
		}
	}
	for _, r32 := range tbl.R32 {
		for r := rune(r32.Lo); r <= rune(r32.Hi); r += rune(r32.Stride) {
			f(r)
		}
	}
}

func TestCleanRefuses(t *testing.T) {
	for _, tc := range []struct{ name, raw string }{
		{"empty", ""},
		{"only spaces", " \u00a0\u3000 "},
		{"invalid UTF-8", "Acme\xff"},
		{"too long", strings.Repeat("x", 101)},
		{"too long once NFC (counted after normalising)", strings.Repeat("é", 101)},
		{"two variation selectors", "❤\ufe0f\ufe0f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := names.Clean("name", tc.raw, 100)
			wantInvalid(t, err, "name")
		})
	}
	// Length is counted after collapsing spaces and NFC.
	if got, err := names.Clean("name", "a"+strings.Repeat(" ", 200)+"b", 3); err != nil || got != "a b" {
		t.Errorf("Clean = %q, %v; want %q", got, err, "a b")
	}
	if _, err := names.Clean("name", strings.Repeat("e\u0301", 100), 100); err != nil {
		t.Errorf("100 decomposed é: %v, want them counted as 100 characters", err)
	}
}

func TestDisplay(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"happy path", "Ann Lee", "Ann Lee"},
		{"case kept", "ACME GmbH", "ACME GmbH"},
		{"full-width becomes ASCII", "Ａｃｍｅ", "Acme"},
		{"ligature unfolded", "\ufb01ne", "fine"},
		{"NFD élise", "e\u0301lise", "\u00e9lise"},
		{"no-break space", "Default\u00a0Organization", "Default Organization"},
		{"emoji presentation selector dropped", "❤\ufe0f Team", "❤ Team"},
		{"right-to-left script kept", "שלום", "שלום"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := names.Display("name", tc.raw, 100)
			if err != nil || got != tc.want {
				t.Fatalf("Display(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
			if again, err := names.Display("name", got, 100); err != nil || again != got {
				t.Errorf("Display(Display(%q)) = %q, %v; want %q", tc.raw, again, err, got)
			}
		})
	}
	for _, tc := range []struct{ name, raw string }{
		{"zero-width space", "Ac\u200bme"},
		{"right-to-left override", "\u202eemcA"},
		{"private use", "Acme\ue000"},
		{"noncharacter", "Acme\ufffe"},
		{"too long once NFKC", strings.Repeat("\ufdfa", 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := names.Display("organization", tc.raw, 100)
			wantInvalid(t, err, "organization")
		})
	}
}

func ExampleDisplay() {
	name, _ := names.Display("organization", "  Ａｃｍｅ\u00a0\u00a0Corp ", 100)
	fmt.Println(name)
	// Output: Acme Corp
}
