package web_test

import (
	"io/fs"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/neosc/neosc/internal/webtest"
	"github.com/neosc/neosc/web"
)

// TestNoInlineScript parses every HTML file of the embedded build: no
// inline <script>, no event-handler attribute, no javascript: URL (the
// Content-Security-Policy refuses them, so they would be dead code or a
// broken page), and every script, stylesheet and image comes from this
// origin.
func TestNoInlineScript(t *testing.T) {
	webtest.RequireUI(t)
	pages := 0
	err := fs.WalkDir(web.Dist, "dist", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".html") {
			return err
		}
		pages++
		b, err := fs.ReadFile(web.Dist, name)
		if err != nil {
			return err
		}
		for _, p := range htmlProblems(string(b)) {
			t.Errorf("%s: %s", name, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages < 2 {
		t.Errorf("found %d HTML pages in the build, want the console's and GraphiQL's", pages)
	}
}

// TestHTMLProblems: the checker of TestNoInlineScript finds what it looks for.
func TestHTMLProblems(t *testing.T) {
	for doc, want := range map[string]int{
		`<script type="module" src="/ui/a.js"></script><link rel="stylesheet" href="/ui/a.css">`: 0,
		`<script>alert(1)</script>`:                                    1,
		`<script type="module">import "/x.js"</script>`:                1,
		`<body onload="go()">`:                                         1,
		`<a href="javascript:go()">x</a>`:                              1,
		`<script src="https://cdn.example.com/graphiql.js"></script>`:  1,
		`<script src="//cdn.example.com/graphiql.js"></script>`:        1,
		`<link rel="stylesheet" href="https://cdn.example.com/a.css">`: 1,
		`<img src="http://example.com/a.png">`:                         1,
	} {
		if got := htmlProblems(doc); len(got) != want {
			t.Errorf("%s: %d problems %v, want %d", doc, len(got), got, want)
		}
	}
}

func htmlProblems(doc string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(doc))
	inScript := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.TextToken:
			if inScript && strings.TrimSpace(string(z.Text())) != "" {
				out = append(out, "inline <script>: "+strings.TrimSpace(string(z.Text())))
			}
		case html.EndTagToken:
			inScript = false
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			inScript = tok.Data == "script" && tt == html.StartTagToken
			for _, a := range tok.Attr {
				key, val := strings.ToLower(a.Key), strings.TrimSpace(a.Val)
				switch {
				case strings.HasPrefix(key, "on"):
					out = append(out, "event handler attribute "+key+" on <"+tok.Data+">")
				case strings.HasPrefix(strings.ToLower(val), "javascript:"):
					out = append(out, "javascript: URL in <"+tok.Data+" "+key+">")
				case key == "src" || key == "href":
					// A link (<a>) may lead elsewhere; what the page loads may not.
					if tok.Data != "a" && (!strings.HasPrefix(val, "/") || strings.HasPrefix(val, "//")) {
						out = append(out, "<"+tok.Data+" "+key+"="+val+"> is not a path of this origin")
					}
				}
			}
		}
	}
}
