package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neosc/neosc/graph"
	"github.com/neosc/neosc/internal/webtest"
)

// lintFinding is one error of graphql-schema-linter's JSON format.
type lintFinding struct {
	Message  string `json:"message"`
	Rule     string `json:"rule"`
	Location struct {
		Line   int    `json:"line"`
		Column int    `json:"column"`
		File   string `json:"file"`
	} `json:"location"`
}

// lint runs graphql-schema-linter (web/node_modules, pinned in
// web/package.json) with the rules of web/.graphql-schema-linterrc.yml on
// one schema file and returns its findings.
func lint(t *testing.T, node, schemaFile string) []lintFinding {
	t.Helper()
	cli := filepath.Join(webtest.WebDir(), "node_modules", "graphql-schema-linter", "lib", "cli.js")
	cmd := exec.Command(node, cli, "--config-directory", webtest.WebDir(), "--format", "json", schemaFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var out struct {
		Errors []lintFinding `json:"errors"`
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
		t.Fatalf("graphql-schema-linter on %s: %v (exit: %v)\nstdout: %s\nstderr: %s", schemaFile, jerr, err, stdout.String(), stderr.String())
	}
	if err != nil && len(out.Errors) == 0 {
		t.Fatalf("graphql-schema-linter on %s failed without findings: %v\n%s", schemaFile, err, stderr.String())
	}
	return out.Errors
}

// TestSchemaLinter lints the schema twice: schema.graphqls as written (the
// descriptions its authors gave) and the SDL clients see through
// introspection (access paragraphs and all). Any finding fails.
func TestSchemaLinter(t *testing.T) {
	node := webtest.Node(t)
	served := filepath.Join(t.TempDir(), "served.graphql")
	if err := os.WriteFile(served, []byte(graph.SDL()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(webtest.Root(), "schema.graphqls"), served} {
		for _, f := range lint(t, node, file) {
			t.Errorf("%s:%d:%d: %s (%s)", filepath.Base(f.Location.File), f.Location.Line, f.Location.Column, f.Message, f.Rule)
		}
	}
}

// TestSchemaLinterRulesBite lints a schema that breaks each rule issue 10
// asks for, so a configuration that drops one of them (or a linter that
// finds nothing) fails here.
func TestSchemaLinterRulesBite(t *testing.T) {
	node := webtest.Node(t)
	bad := `"Q"
type Query {
  "A list without paging arguments."
  things: ThingConnection!
  undocumented: Int
  "A field."
  arg(x: Int): Int
}
"Input."
input In {
  field: Int
}
"Not a connection."
type ThingConnection {
  "Nodes."
  nodes: [Int!]!
}
"Uses In."
type Mutation {
  "Takes In."
  m("In." in: In): Int
}
`
	file := filepath.Join(t.TempDir(), "bad.graphql")
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	var all []string
	for _, f := range lint(t, node, file) {
		found[f.Rule] = true
		all = append(all, fmt.Sprintf("%s: %s", f.Rule, f.Message))
	}
	for _, rule := range []string{
		"arguments-have-descriptions", "input-object-values-have-descriptions", "fields-have-descriptions",
		"relay-connection-types-spec", "relay-connection-arguments-spec", "relay-page-info-spec",
	} {
		if !found[rule] {
			t.Errorf("rule %s found nothing in a schema that breaks it; findings:\n%s", rule, strings.Join(all, "\n"))
		}
	}
}
