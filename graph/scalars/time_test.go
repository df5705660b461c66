package scalars

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// TestMarshalTimeBytes: the hand-quoted time is strconv.Quote of its RFC
// 3339 text, in UTC, with the nanoseconds it has.
func TestMarshalTimeBytes(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 11, 26, 23, 59, 59, 123456000, time.UTC),
		time.Date(1999, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 5*3600+1800)),
		time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC),
	} {
		var got bytes.Buffer
		MarshalTime(at).MarshalGQL(&got)
		if want := strconv.Quote(at.UTC().Format(time.RFC3339Nano)); got.String() != want {
			t.Errorf("MarshalTime(%v) = %s, want %s", at, got.String(), want)
		}
	}
}
