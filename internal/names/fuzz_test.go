package names_test

import (
	"testing"
	"unicode/utf8"

	"github.com/neosc/neosc/internal/names"
)

// seeds are the attacks and the edge cases; `go test` runs only these,
// `go test -fuzz FuzzSkeleton ./internal/names` explores from them.
var seeds = []string{
	"Acme", "ACME", "\u0410\u0421\u041c\u0415", "\u0391cme", "D\u0435fault Organization",
	"Ac\u200bme", "\u202eemcA", "Default\u00a0\u00a0Organization", "E\u0301lise", "\u00c9lise",
	"AppIe", "Gl0bex", "Acrne", "\ufb01ne", "\uff21\uff43\uff4d\uff45", "\u01c4emal", "\u0130stanbul",
	"a\x00b", "\xff\xfe", "\ufdfa", "\u0345\u0399", "\u13a0\uab70", "\u1e9e", " \t\n", "",
}

func FuzzSkeleton(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key := names.Skeleton(s)
		if !utf8.ValidString(key) {
			t.Fatalf("Skeleton(%+q) = %+q, not UTF-8", s, key)
		}
		if again := names.Skeleton(key); again != key {
			t.Fatalf("Skeleton(%+q) = %+q, but Skeleton of that = %+q", s, key, again)
		}
	})
}

func FuzzClean(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		clean, err := names.Clean("name", s, 100)
		if err != nil {
			return
		}
		if again, err := names.Clean("name", clean, 100); err != nil || again != clean {
			t.Fatalf("Clean(%+q) = %+q, but Clean of that = %+q, %v", s, clean, again, err)
		}
		display, err := names.Display("name", s, 100)
		if err != nil {
			return
		}
		if again, err := names.Display("name", display, 100); err != nil || again != display {
			t.Fatalf("Display(%+q) = %+q, but Display of that = %+q, %v", s, display, again, err)
		}
		if a, b := names.Skeleton(clean), names.Skeleton(display); a != b {
			t.Fatalf("Skeleton(Clean(%+q)) = %+q, Skeleton(Display) = %+q: the key must not depend on which", s, a, b)
		}
	})
}
