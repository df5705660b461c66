package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/webtest"
)

// A description of schema.graphqls that the documentation explorer shows
// once the schema has loaded.
const queryFieldDescription = "The caller's organization; every organization for a platform administrator."

// TestGraphiQL signs in with the sign-in box, loads the schema (its
// descriptions show in the documentation explorer), types a query into
// the Monaco editor and runs it, all with a real Chromium against the real
// handler; no request leaves the server's origin, the console shows no
// error (no CSP violation, no worker that failed), and the token is in
// sessionStorage only: neither localStorage nor a cookie holds it, also
// after a token was typed into the headers editor and sent.
func TestGraphiQL(t *testing.T) {
	env := apitest.New(t, testdb.New(t, db.SQLite))
	const email = "ada@acme.example"
	acc := env.Register(email, "Acme")
	b := webtest.NewBrowser(t)
	ctx := b.Ctx
	origin := env.Server.URL

	b.Do(ctx, chromedp.Navigate(origin+"/graphiql"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-container")),
		chromedp.WaitVisible(chromedp.CSS(`form.neosc-signin input[name=email]`)))
	b.Screenshot(ctx, "graphiql-signed-out")

	// Sign in: the login mutation's token goes to sessionStorage and the
	// schema is fetched again with it.
	b.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`form.neosc-signin input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`form.neosc-signin input[name=password]`), "password-"+email),
		chromedp.Click(chromedp.CSS(`form.neosc-signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.neosc-who`)))
	token := webtest.Value(b, ctx, chromedp.Evaluate[string](`sessionStorage.getItem('neosc.graphiql.token') || ''`))
	// The refusal of the anonymous schema fetch does not stay on show.
	waitNoText(t, b, ctx, ".graphiql-response", "requires authentication", "the anonymous schema fetch's error")
	if strings.Count(token, ".") != 2 {
		t.Fatalf("after signing in, sessionStorage holds %q, want a JWT", token)
	}

	// The schema loads and its descriptions show in the docs explorer.
	b.Do(ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)))
	waitText(t, b, ctx, ".graphiql-doc-explorer", "Query", "the documentation explorer's root types (the schema did not load)")
	b.Do(ctx, chromedp.Click(chromedp.CSS(`.graphiql-doc-explorer a.graphiql-doc-explorer-type-name`)))
	waitText(t, b, ctx, ".graphiql-doc-explorer", queryFieldDescription, "the description of Query.organizations")
	b.Screenshot(ctx, "graphiql-docs")

	// The explorer plugin lists the root fields from the schema.
	b.Do(ctx, chromedp.Click(chromedp.CSS(`button[aria-label="Show GraphiQL Explorer"]`)))
	waitText(t, b, ctx, ".graphiql-plugin", "organizations", "the explorer plugin's fields")
	b.Screenshot(ctx, "graphiql-explorer")

	// Type a query into the operation editor (Monaco) and run it.
	editor := chromedp.CSS(`.graphiql-query-editor .monaco-editor textarea`)
	b.Do(ctx,
		chromedp.Focus(editor),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Delete),
		chromedp.SendKeys(editor, "query Who { me { email organization { name } } }"),
		chromedp.KeyEvent(kb.Escape), // closes the suggestion list, if any
	)
	waitText(t, b, ctx, ".graphiql-query-editor", "query Who", "the typed query")
	// GraphiQL reads the operation's name from the editor a moment later
	// (debounced); the tab is named after it then.
	waitText(t, b, ctx, ".graphiql-tab-active, #graphiql-session-tab-0", "Who", "the tab named after the operation")
	b.Do(ctx, chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)))
	waitText(t, b, ctx, ".graphiql-response", `"email": "`+email+`"`, "the query's result")
	waitText(t, b, ctx, ".graphiql-response", `"name": "Acme"`, "the query's result")
	b.Screenshot(ctx, "graphiql")

	// A reload keeps the sign-in (sessionStorage); signing out forgets it.
	b.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`.neosc-who`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Sign out"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.neosc-signin input[name=email]`)))
	if left := webtest.Value(b, ctx, chromedp.Evaluate[string](`sessionStorage.getItem('neosc.graphiql.token') || ''`)); left != "" {
		t.Errorf("after signing out, sessionStorage still holds a token")
	}
	// Signing out ends the session on the server too (signOut), not only
	// in the page.
	signedOut := false
	for i := 0; i < 50 && !signedOut; i++ {
		signedOut = env.Do(token, `{ me { id } }`, nil).Code() == "UNAUTHENTICATED"
		if !signedOut {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !signedOut {
		t.Errorf("after Sign out in GraphiQL, its token still works on the server")
	}

	// Signed out, a bearer token typed into the headers editor is what
	// authenticates the query; it is not stored either (GraphiQL's history
	// keeps each run's headers unless told otherwise).
	headers := chromedp.CSS(`section.graphiql-editor-tool[aria-label="Headers"] > :not(.hidden) textarea`)
	b.Do(ctx, chromedp.Click(chromedp.Search(`//button[normalize-space()="Headers"]`)))
	b.Do(ctx,
		chromedp.WaitReady(headers),
		chromedp.Focus(headers),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Delete),
		chromedp.SendKeys(headers, `{"Authorization": "Bearer `+acc.Token+`"`),
		chromedp.KeyEvent(kb.Escape),
		chromedp.Click(chromedp.CSS(`.graphiql-execute-button`)),
	)
	waitText(t, b, ctx, ".graphiql-response", `"email": "`+email+`"`, "the result with the token of the headers editor")
	b.Screenshot(ctx, "graphiql-headers")

	// GraphiQL writes its state a moment after a change (debounced).
	b.Do(ctx, chromedp.Sleep(1500*time.Millisecond))
	stored := webtest.Value(b, ctx, chromedp.Evaluate[string](`JSON.stringify({local: Object.entries(localStorage), cookie: document.cookie})`))
	if !strings.Contains(stored, "query Who") {
		t.Errorf("localStorage does not hold the typed query (GraphiQL's own state), so this check proves nothing: %s", stored)
	}
	for name, tok := range map[string]string{"the signed-in token": token, "the token typed into the headers editor": acc.Token} {
		if strings.Contains(stored, tok) || strings.Contains(stored, tok[strings.LastIndex(tok, ".")+1:]) {
			t.Errorf("%s is in localStorage or a cookie: %s", name, stored)
		}
	}

	if foreign := b.ForeignRequests(origin); len(foreign) > 0 {
		t.Errorf("requests left the server's origin %s:\n%s", origin, strings.Join(foreign, "\n"))
	}
	assertRequested(t, b, origin, "/ui/graphiql/app.js", "/ui/graphiql/editor.worker.js", "/ui/graphiql/graphql.worker.js", "/graphql")
	for _, m := range b.ConsoleErrors() {
		t.Errorf("console: %s", m)
	}
}

// TestGraphiQLWrongPassword: the sign-in box says what went wrong and
// keeps no token.
func TestGraphiQLWrongPassword(t *testing.T) {
	env := apitest.New(t, testdb.New(t, db.SQLite))
	env.Register("bob@acme.example", "Acme")
	b := webtest.NewBrowser(t)
	ctx := b.Ctx
	b.Do(ctx, chromedp.Navigate(env.Server.URL+"/graphiql"),
		chromedp.SendKeys(chromedp.CSS(`form.neosc-signin input[name=email]`), "bob@acme.example"),
		chromedp.SendKeys(chromedp.CSS(`form.neosc-signin input[name=password]`), "not-the-password"),
		chromedp.Click(chromedp.CSS(`form.neosc-signin button[type=submit]`)))
	waitText(t, b, ctx, ".neosc-error", "Wrong email or password.", "the sign-in error")
	if tok := webtest.Value(b, ctx, chromedp.Evaluate[string](`sessionStorage.getItem('neosc.graphiql.token') || ''`)); tok != "" {
		t.Errorf("a failed sign-in stored a token: %q", tok)
	}
	b.Screenshot(ctx, "graphiql-wrong-password")
	// GraphiQL's own markup has findings of its own (its logo link's and
	// the editor's comment colours, a button inside its tab list item);
	// what this page adds around it must have none.
	b.AxeIn(ctx, "graphiql", ".neosc-bar")
}

// waitText waits until the first element matching sel contains want.
func waitText(t *testing.T, b *webtest.Browser, ctx context.Context, sel, want, what string) {
	t.Helper()
	js := `(() => { const e = document.querySelector(` + jsString(sel) + `); return !!e && e.innerText.replace(/\u00a0/g, ' ').includes(` + jsString(want) + `); })()`
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`) || {innerText: '(no `+sel+`)'}).innerText`))
		response, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('.graphiql-response') || {innerText: ''}).innerText`))
		b.Screenshot(ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("%s: %q never showed in %s: %v\nit shows: %s\nthe response pane shows: %s\nconsole: %v", what, want, sel, err, text, response, b.Console())
	}
}

// waitNoText waits until no element matching sel contains text.
func waitNoText(t *testing.T, b *webtest.Browser, ctx context.Context, sel, text, what string) {
	t.Helper()
	js := `!Array.from(document.querySelectorAll(` + jsString(sel) + `)).some(e => e.innerText.replace(/\u00a0/g, ' ').includes(` + jsString(text) + `))`
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		b.Screenshot(ctx, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("%s: %q still shows in %s: %v", what, text, sel, err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func assertRequested(t *testing.T, b *webtest.Browser, origin string, paths ...string) {
	t.Helper()
	got := map[string]bool{}
	for _, r := range b.Requests() {
		got[strings.SplitN(strings.TrimPrefix(r, origin), "?", 2)[0]] = true
	}
	for _, p := range paths {
		if !got[p] {
			t.Errorf("%s was never requested (requests: %v)", p, b.Requests())
		}
	}
}
