package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/webtest"
)

// pageServer serves an empty page: another origin (same address, another
// port) than the API's.
func pageServer(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><title>partner console</title><h1>partner console</h1></html>`))
	}))
	t.Cleanup(s.Close)
	return s
}

// fetchScript is what a page on another origin runs: a GraphQL request
// with a Bearer token (so the browser sends a preflight first), reading
// the answer and the headers the API exposes.
const fetchScript = `fetch(%s, {method: 'POST', headers: {'Content-Type': 'application/json', 'Accept': 'application/graphql-response+json', 'Authorization': 'Bearer ' + %s},
  body: JSON.stringify({query: '{ me { email } }'})})
  .then(r => r.json().then(body => JSON.stringify({status: r.status, requestId: r.headers.get('X-Request-ID'),
    remaining: r.headers.get('RateLimit-Remaining'), body})))
  .catch(e => JSON.stringify({error: e.name + ': ' + e.message}))`

// TestCORSFromABrowser: in a real Chromium, a page on an origin listed in
// NEOSC_CORS_ORIGINS calls the API with a Bearer token and reads the
// answer and its X-Request-ID and RateLimit-* headers; a page on an
// origin not listed cannot (the preflight gets no Access-Control-* header:
// "TypeError: Failed to fetch").
func TestCORSFromABrowser(t *testing.T) {
	b := webtest.NewBrowser(t)
	listed, unlisted := pageServer(t), pageServer(t)
	env := apitest.New(t, testdb.New(t, db.SQLite), apitest.WithCORSOrigins(listed.URL))
	acc := env.Register("browser@cors.test", "Browser")

	call := func(page *httptest.Server) map[string]any {
		t.Helper()
		tab := b.Tab()
		b.Do(tab, chromedp.Navigate(page.URL+"/"))
		script := fmt.Sprintf(fetchScript, quote(env.Server.URL+"/graphql"), quote(acc.Token))
		raw := webtest.Value(b, tab, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
		var out map[string]any
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("page result %q: %v", raw, err)
		}
		return out
	}

	got := call(listed)
	body, _ := got["body"].(map[string]any)
	data, _ := body["data"].(map[string]any)
	me, _ := data["me"].(map[string]any)
	if got["status"] != float64(200) || me["email"] != acc.Email {
		t.Fatalf("a listed origin's page: %v", got)
	}
	if id, _ := got["requestId"].(string); id == "" {
		t.Errorf("X-Request-ID not readable by the page: %v", got)
	}
	if rem, _ := got["remaining"].(string); rem == "" {
		t.Errorf("RateLimit-Remaining not readable by the page: %v", got)
	}

	got = call(unlisted)
	if e, _ := got["error"].(string); e != "TypeError: Failed to fetch" {
		t.Fatalf("an unlisted origin's page: %v", got)
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
