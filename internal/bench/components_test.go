package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"
)

// TestComponents attributes the samples of a written CPU profile: each to
// the first component its stack claims, runtime frames counted for the
// code that made them, and shares that add up to 100.
func TestComponents(t *testing.T) {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}}
	fn := map[string]*profile.Function{}
	loc := func(names ...string) *profile.Location { // one location, inlined frames innermost first
		l := &profile.Location{ID: uint64(len(p.Location) + 1)}
		for _, n := range names {
			if fn[n] == nil {
				fn[n] = &profile.Function{ID: uint64(len(p.Function) + 1), Name: n}
				p.Function = append(p.Function, fn[n])
			}
			l.Line = append(l.Line, profile.Line{Function: fn[n]})
		}
		p.Location = append(p.Location, l)
		return l
	}
	sample := func(cpu int64, locs ...*profile.Location) {
		p.Sample = append(p.Sample, &profile.Sample{Value: []int64{1, cpu}, Location: locs})
	}
	sample(30, loc("runtime.mallocgc"), loc("github.com/99designs/gqlgen/graphql.NewFieldSet"))
	sample(20, loc("github.com/99designs/gqlgen/graphql.(*FieldSet).MarshalGQL"))
	sample(10, loc("runtime.mapaccess2", "github.com/neosc/neosc/internal/authz.(*Authorizer).RowAllowed"))
	sample(25, loc("modernc.org/sqlite/lib.Xsqlite3_step"), loc("github.com/glebarez/go-sqlite.(*rows).Next"))
	sample(5, loc("runtime.gcDrain"), loc("runtime.gcBgMarkWorker"))
	sample(10, loc("main.unknown"))
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(f); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	got, err := Components(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Share{
		{"allocation and GC assists", 30}, {"SQLite engine (modernc.org/sqlite, libc)", 25},
		{"gqlgen executor, generated code and resolvers", 20}, {"@auth (internal/authz)", 10},
		{"GC background marking", 5}, {"other", 10},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Component != want[i].Component || got[i].Percent < want[i].Percent-0.01 || got[i].Percent > want[i].Percent+0.01 {
			t.Errorf("share %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := Components(filepath.Join(t.TempDir(), "missing.pprof")); err == nil {
		t.Error("a missing profile was read")
	}
}
