package bench

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// Share is the part of a CPU profile's samples spent in one component.
type Share struct {
	Component string
	Percent   float64
}

// component is a rule that claims a sample by its stack (function names,
// leaf first).
type component struct {
	name  string
	match func(stack []string) bool
}

// components are tried in order; a sample goes to the first that claims it,
// else to "other". "Frame" below means the first frame outside the
// runtime (the code that made the runtime work).
var components = []component{
	{"GC background marking", func(st []string) bool { return anyPrefix(st, "runtime.gcBgMarkWorker") }},
	{"allocation and GC assists", func(st []string) bool {
		return isRuntime(st[0]) && slices.ContainsFunc(st[:min(len(st), 8)], allocFrame.MatchString)
	}},
	{"SQLite engine (modernc.org/sqlite, libc)", func(st []string) bool { return frameIn(st, "modernc.org/") }},
	{"goroutines and scheduling", func(st []string) bool {
		return isRuntime(st[0]) && slices.ContainsFunc(st, schedFrame.MatchString)
	}},
	{"network and system calls", func(st []string) bool {
		return strings.HasPrefix(st[0], "internal/runtime/syscall") || strings.HasPrefix(st[0], "syscall.") ||
			anyPrefix(st[:min(len(st), 6)], "internal/poll.", "net.(*conn)", "net.(*netFD)")
	}},
	{"JWT verification (jwx, ed25519)", func(st []string) bool {
		return anyPrefix(st[:min(len(st), 12)], "github.com/lestrrat-go/jwx", "crypto/")
	}},
	{"time parsing (the SQLite driver's DATETIME columns)", func(st []string) bool {
		return anyPrefix(st[:min(len(st), 6)], "time.Parse", "time.parse", "github.com/glebarez/go-sqlite.(*conn).parseTime")
	}},
	{"context lookups", func(st []string) bool {
		return anyPrefix(st[:min(len(st), 4)], "context.value", "context.(*valueCtx).Value")
	}},
	{"reflect", func(st []string) bool { return frameIn(st, "reflect.") }},
	{"GORM", func(st []string) bool { return frameIn(st, "gorm.io/") }},
	{"encoding/json", func(st []string) bool { return frameIn(st, "encoding/json") }},
	{"@auth (internal/authz)", func(st []string) bool { return frameIn(st, "github.com/neosc/neosc/internal/authz") }},
	{"gqlgen executor, generated code and resolvers", func(st []string) bool {
		return frameIn(st, "github.com/99designs/gqlgen", "github.com/vektah/gqlparser", "github.com/neosc/neosc/graph")
	}},
	{"database/sql and the drivers' Go side", func(st []string) bool {
		return frameIn(st, "database/sql", "github.com/glebarez/", "github.com/go-sql-driver/")
	}},
	{"net/http", func(st []string) bool { return frameIn(st, "net/http", "net/textproto", "bufio.") }},
	{"the rest of the service (internal/…)", func(st []string) bool { return frameIn(st, "github.com/neosc/neosc/") }},
}

var (
	allocFrame = regexp.MustCompile(`^runtime\.(mallocgc|newobject|makeslice|growslice|gcAssist|memclrNoHeapPointers|makemap|rawstring|concatstring|slicebytetostring|newarray|mapassign|gcStart|bgsweep|sweepone)`)
	schedFrame = regexp.MustCompile(`^runtime\.(schedule|findRunnable|park_m|gopark|goready|ready|newproc|mcall|futex|notesleep|stopm|netpoll|runqsteal|wakep|startm|goexit)`)
)

func isRuntime(f string) bool {
	return strings.HasPrefix(f, "runtime.") || strings.HasPrefix(f, "internal/") ||
		strings.HasSuffix(f, "body") || strings.HasPrefix(f, "aeshash") || strings.HasPrefix(f, "memeqbody")
}

// frameIn reports whether the first frame outside the runtime is in one of
// the packages.
func frameIn(st []string, prefixes ...string) bool {
	for _, f := range st {
		if !isRuntime(f) {
			return anyPrefix([]string{f}, prefixes...)
		}
	}
	return false
}

func anyPrefix(st []string, prefixes ...string) bool {
	for _, f := range st {
		for _, p := range prefixes {
			if strings.HasPrefix(f, p) {
				return true
			}
		}
	}
	return false
}

// Components attributes the CPU samples of the profile at path to
// components, largest share first ("other" last).
func Components(path string) ([]Share, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, err
	}
	col := slices.IndexFunc(p.SampleType, func(t *profile.ValueType) bool { return t.Type == "cpu" })
	if col < 0 {
		return nil, fmt.Errorf("%s: not a CPU profile", path)
	}
	return attribute(p, col), nil
}

func attribute(p *profile.Profile, col int) []Share {
	sums := map[string]int64{}
	var total int64
	for _, s := range p.Sample {
		var stack []string
		for _, loc := range s.Location {
			for _, l := range loc.Line { // inlined calls first: the innermost function leads
				if l.Function != nil {
					stack = append(stack, l.Function.Name)
				}
			}
		}
		v := s.Value[col]
		total += v
		name := "other"
		if len(stack) > 0 {
			for _, c := range components {
				if c.match(stack) {
					name = c.name
					break
				}
			}
		}
		sums[name] += v
	}
	var out []Share
	for name, v := range sums {
		if total > 0 {
			out = append(out, Share{name, 100 * float64(v) / float64(total)})
		}
	}
	slices.SortFunc(out, func(a, b Share) int {
		switch {
		case a.Component == "other":
			return 1
		case b.Component == "other":
			return -1
		case a.Percent > b.Percent:
			return -1
		case a.Percent < b.Percent:
			return 1
		}
		return strings.Compare(a.Component, b.Component)
	})
	return out
}
