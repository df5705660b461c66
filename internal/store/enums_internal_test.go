package store

import (
	"bytes"
	"strconv"
	"testing"
)

// TestWriteQuoted: the stack-buffered quoting of enum values writes what
// strconv.Quote writes, whatever the value.
func TestWriteQuoted(t *testing.T) {
	for _, s := range []string{"ACTIVE", "", "with space", `q"uote`, `back\slash`, "tab\t", "é", "\x7f", string(make([]byte, 80))} {
		var got bytes.Buffer
		writeQuoted(&got, s)
		if want := strconv.Quote(s); got.String() != want {
			t.Errorf("writeQuoted(%q) = %s, want %s", s, got.String(), want)
		}
	}
}
