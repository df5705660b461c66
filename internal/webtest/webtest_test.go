package webtest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/neosc/neosc/internal/webtest"
)

// TestRecorder: the records the web tests assert on see what they must: a
// request to another origin, a Content-Security-Policy violation, an
// uncaught exception and a console.error; and a screenshot is a PNG.
func TestRecorder(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		_, _ = w.Write([]byte("GIF89a"))
	}))
	defer other.Close()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<!doctype html><title>t</title><h1>recorder</h1>
<img src="` + other.URL + `/pixel.gif" alt="">
<script src="/app.js"></script>`))
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write([]byte(`console.error("boom from app.js"); setTimeout(() => { throw new Error("uncaught in app.js"); }, 0);`))
		case "/csp":
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Security-Policy", "script-src 'self'")
			_, _ = w.Write([]byte(`<!doctype html><title>csp</title><script>document.title = "ran"</script>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer page.Close()

	b := webtest.NewBrowser(t)
	b.Do(b.Ctx, chromedp.Navigate(page.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")), chromedp.Sleep(300*time.Millisecond))
	foreign := b.ForeignRequests(page.URL)
	if len(foreign) != 1 || !strings.HasPrefix(foreign[0], other.URL) {
		t.Errorf("ForeignRequests = %v, want the image of %s", foreign, other.URL)
	}
	tab := b.Tab()
	b.Do(tab, chromedp.Navigate(page.URL+"/csp"), chromedp.Sleep(300*time.Millisecond))
	if title := webtest.Value(b, tab, chromedp.Title()); title == "ran" {
		t.Errorf("the inline script ran despite the policy")
	}

	var text []string
	for _, m := range b.ConsoleErrors() {
		text = append(text, m.String())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"boom from app.js", "uncaught in app.js", "Content Security Policy"} {
		if !strings.Contains(all, want) {
			t.Errorf("ConsoleErrors lacks %q:\n%s\n(all messages: %v)", want, all, b.Console())
		}
	}

	path := b.Screenshot(b.Ctx, "webtest-recorder")
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(path)
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG (starts %q)", path, png[:min(8, len(png))])
	}
}
