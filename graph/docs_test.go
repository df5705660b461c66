package graph_test

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	gql "github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/workspaces"
)

// sourceSchema parses schema.graphqls as written: the descriptions its
// authors gave, before the schema build appends access paragraphs.
func sourceSchema(t *testing.T) *gql.Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "schema.graphqls"))
	if err != nil {
		t.Fatal(err)
	}
	s, gerr := gqlparser.LoadSchema(&gql.Source{Name: "schema.graphqls", Input: string(b)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	return s
}

// userTypes are the schema's own types (no built-ins, no __*), by name.
func userTypes(s *gql.Schema) []*gql.Definition {
	var out []*gql.Definition
	for name, def := range s.Types {
		if !def.BuiltIn && !strings.HasPrefix(name, "__") {
			out = append(out, def)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TestEverythingHasADescription: every type, field, argument, input field
// and enum value of schema.graphqls has a description of its own (the
// generated access paragraph does not count), so a missing one fails even
// where node (and the schema linter) is not installed.
func TestEverythingHasADescription(t *testing.T) {
	checked := 0
	missing := func(what string) { t.Errorf("%s has no description in schema.graphqls", what) }
	for _, def := range userTypes(sourceSchema(t)) {
		checked++
		if strings.TrimSpace(def.Description) == "" {
			missing("type " + def.Name)
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			checked++
			if strings.TrimSpace(f.Description) == "" {
				missing(def.Name + "." + f.Name)
			}
			for _, a := range f.Arguments {
				checked++
				if strings.TrimSpace(a.Description) == "" {
					missing(def.Name + "." + f.Name + "(" + a.Name + ":)")
				}
			}
		}
		for _, v := range def.EnumValues {
			checked++
			if strings.TrimSpace(v.Description) == "" {
				missing(def.Name + "." + v.Name)
			}
		}
	}
	if checked < 300 {
		t.Fatalf("only %d schema elements checked; the walk is broken", checked)
	}
}

// TestPagingArgumentsDescribeTheirBounds: every `first` states the store's
// default and maximum page size, every `after` says it takes a cursor.
func TestPagingArgumentsDescribeTheirBounds(t *testing.T) {
	firsts := 0
	for _, def := range userTypes(sourceSchema(t)) {
		for _, f := range def.Fields {
			if a := f.Arguments.ForName("first"); a != nil {
				firsts++
				for _, n := range []int{store.DefaultPageSize, store.MaxPageSize} {
					if !containsNumber(a.Description, n) {
						t.Errorf("%s.%s(first:) description does not state %d: %q", def.Name, f.Name, n, a.Description)
					}
				}
				if !strings.Contains(a.Description, "BAD_USER_INPUT") {
					t.Errorf("%s.%s(first:) does not say what an out-of-range value gives", def.Name, f.Name)
				}
			}
			if a := f.Arguments.ForName("after"); a != nil && !strings.Contains(a.Description, "cursor") {
				t.Errorf("%s.%s(after:) description does not mention the cursor: %q", def.Name, f.Name, a.Description)
			}
		}
	}
	if firsts < 8 {
		t.Fatalf("only %d `first` arguments found; the walk is broken", firsts)
	}
}

// TestWorkspaceRangesMatchValidation: every cpuCores/memoryMb/storageGb
// field states the bounds internal/workspaces enforces, and every URL field
// the URL rule.
func TestWorkspaceRangesMatchValidation(t *testing.T) {
	s := sourceSchema(t)
	bounds := map[string][2]int{
		"cpuCores":  {workspaces.MinCPUCores, workspaces.MaxCPUCores},
		"memoryMb":  {workspaces.MinMemoryMB, workspaces.MaxMemoryMB},
		"storageGb": {workspaces.MinStorageGB, workspaces.MaxStorageGB},
	}
	for _, typ := range []string{"Workspace", "CreateWorkspaceInput", "UpdateWorkspaceInput"} {
		def := s.Types[typ]
		if def == nil {
			t.Fatalf("type %s missing", typ)
		}
		for field, b := range bounds {
			f := def.Fields.ForName(field)
			if f == nil {
				t.Errorf("%s.%s missing", typ, field)
				continue
			}
			for _, n := range b {
				if !containsNumber(f.Description, n) {
					t.Errorf("%s.%s description does not state the bound %d: %q", typ, field, n, f.Description)
				}
			}
		}
		for _, field := range []string{"url", "imageUrl"} {
			f := def.Fields.ForName(field)
			if f == nil || !strings.Contains(f.Description, "http or https") || !strings.Contains(f.Description, "credentials") {
				t.Errorf("%s.%s does not state the URL rule (absolute http or https, no credentials)", typ, field)
			}
		}
	}
}

var (
	backticked  = regexp.MustCompile("`([^`]+)`")
	actionShape = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)
)

// TestAuditActionsAreAllDocumented reads the action names from the source
// of internal/audit (every string constant shaped like "object.verb"), so
// an action added there without a line in AuditEvent.action fails here; a
// documented name that is no action fails too.
func TestAuditActionsAreAllDocumented(t *testing.T) {
	actions := map[string]bool{}
	for _, v := range stringConstants(t, filepath.Join("..", "internal", "audit"), "") {
		if actionShape.MatchString(v) {
			actions[v] = true
		}
	}
	if len(actions) < 20 {
		t.Fatalf("only %d audit actions found in internal/audit; the scan is broken", len(actions))
	}
	desc := sourceSchema(t).Types["AuditEvent"].Fields.ForName("action").Description
	compareDocumented(t, "AuditEvent.action", desc, actions, actionShape.MatchString)
	filter := sourceSchema(t).Types["AuditEventFilter"].Fields.ForName("actions").Description
	if !strings.Contains(filter, "AuditEvent.action") {
		t.Errorf("AuditEventFilter.actions does not point to the list of actions: %q", filter)
	}
}

// TestTargetTypesAreAllDocumented: AuditEvent.targetType lists exactly the
// type tags of internal/ids (the values an event's target type takes).
func TestTargetTypesAreAllDocumented(t *testing.T) {
	types := map[string]bool{}
	for _, v := range stringConstants(t, filepath.Join("..", "internal", "ids"), "Type") {
		types[v] = true
	}
	if len(types) < 5 {
		t.Fatalf("only %d ID types found in internal/ids; the scan is broken", len(types))
	}
	desc := sourceSchema(t).Types["AuditEvent"].Fields.ForName("targetType").Description
	compareDocumented(t, "AuditEvent.targetType", desc, types, func(s string) bool {
		return regexp.MustCompile(`^[A-Z][A-Za-z]+$`).MatchString(s)
	})
}

// compareDocumented checks that desc names every value of want in
// backticks, and that every backticked word of desc that looks like one
// (isValue) is one.
func compareDocumented(t *testing.T, where, desc string, want map[string]bool, isValue func(string) bool) {
	t.Helper()
	documented := map[string]bool{}
	for _, m := range backticked.FindAllStringSubmatch(desc, -1) {
		if isValue(m[1]) {
			documented[m[1]] = true
		}
	}
	for v := range want {
		if !documented[v] {
			t.Errorf("%s does not document `%s`, which the code has", where, v)
		}
	}
	for v := range documented {
		if !want[v] {
			t.Errorf("%s documents `%s`, which the code does not have", where, v)
		}
	}
}

// stringConstants returns the values of the string constants declared in
// the non-test Go files of dir; with typ, only those declared of that type.
func stringConstants(t *testing.T, dir, typ string) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s (%v)", dir, err)
	}
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			out = append(out, constValues(g, typ)...)
		}
	}
	return out
}

func constValues(g *ast.GenDecl, typ string) []string {
	var out []string
	for _, spec := range g.Specs {
		vs := spec.(*ast.ValueSpec)
		if typ != "" {
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				continue
			}
		}
		for _, v := range vs.Values {
			lit, ok := v.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			out = append(out, constant.StringVal(constant.MakeFromLiteral(lit.Value, lit.Kind, 0)))
		}
	}
	return out
}

// containsNumber reports whether n appears in s as a whole number.
func containsNumber(s string, n int) bool {
	return regexp.MustCompile(`(^|[^0-9])` + strconv.Itoa(n) + `([^0-9]|$)`).MatchString(s)
}
