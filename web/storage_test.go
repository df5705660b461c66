package web_test

import (
	"os/exec"
	"testing"

	"github.com/neosc/neosc/internal/webtest"
)

// TestGraphiQLStorage runs web/src/graphiql/storage.test.js with Node's
// test runner: GraphiQL's storage drops request headers and anything that
// holds a token, and the page's token goes to sessionStorage only.
func TestGraphiQLStorage(t *testing.T) {
	node := webtest.Node(t)
	cmd := exec.Command(node, "--test", "src/graphiql/storage.test.js")
	cmd.Dir = webtest.WebDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
