// Package webtest runs what the web tests need: Node.js with the pinned
// packages of web/ (the graphql-http audit, the schema linter, axe-core) and
// a real headless Chromium driven by chromedp. Without them a test skips,
// unless NEOSC_TEST_NODE / NEOSC_TEST_BROWSER is "required" (CI sets both),
// where it fails. It is imported by tests only.
package webtest

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/neosc/neosc/web"
)

// Root is the repository's root folder.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// WebDir is web/, where package.json and node_modules are.
func WebDir() string { return filepath.Join(Root(), "web") }

func missing(t testing.TB, env, what string) {
	t.Helper()
	if os.Getenv(env) == "required" {
		t.Fatalf("%s (%s=required)", what, env)
	}
	t.Skipf("%s; skipped (set %s=required to make this a failure)", what, env)
}

// Node returns the path of node, with web/node_modules installed (make web).
func Node(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "NEOSC_TEST_NODE", "node not found")
	}
	if _, err := os.Stat(filepath.Join(WebDir(), "node_modules", ".package-lock.json")); err != nil {
		missing(t, "NEOSC_TEST_NODE", "web/node_modules is not installed (make web)")
	}
	return node
}

// Chromium returns the path of the browser binary.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("NEOSC_TEST_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	missing(t, "NEOSC_TEST_BROWSER", "Chromium not found (apt-get install chromium)")
	return ""
}

// RequireUI skips (or fails) unless the UI is built into this test binary.
func RequireUI(t testing.TB) {
	t.Helper()
	if !web.Built() {
		missing(t, "NEOSC_TEST_BROWSER", "the UI is not built into this binary (make web, then run the tests again)")
	}
}

// Browser is one headless Chromium with a fresh profile, and the record of
// every network request its pages made and of what they wrote to the
// console.
type Browser struct {
	t        testing.TB
	Ctx      context.Context
	mu       sync.Mutex
	requests []string
	console  []Message
}

// Message is one line of a page's console: a console API call, an uncaught
// exception, or an entry of the browser's log (a Content-Security-Policy
// violation, a failed request, a worker that could not start).
type Message struct {
	Type   string // log, info, warning, error, exception, …
	Source string // for a browser log entry: security, network, worker, …
	Text   string
	URL    string
}

func (m Message) String() string {
	s := m.Type
	if m.Source != "" {
		s += " (" + m.Source + ")"
	}
	s += ": " + m.Text
	if m.URL != "" {
		s += " [" + m.URL + "]"
	}
	return s
}

// NewBrowser starts Chromium; it is closed when the test ends. Every tab's
// requests are recorded (Requests).
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	RequireUI(t)
	path := Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{t: t}
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithListener(b.record))
	t.Cleanup(func() { cancelC(); cancelA() })
	b.Ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // starts the browser and its first tab
		t.Fatalf("starting Chromium: %v", err)
	}
	return b
}

// record keeps the URL of every request a page makes and every console
// message (it runs on the tab's reading goroutine: no commands, return
// fast).
func (b *Browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	case *cdpruntime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			parts = append(parts, remoteText(a))
		}
		m := Message{Type: string(e.Type), Text: strings.Join(parts, " ")}
		if e.StackTrace != nil && len(e.StackTrace.CallFrames) > 0 {
			m.URL = e.StackTrace.CallFrames[0].URL
		}
		b.console = append(b.console, m)
	case *cdpruntime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		b.console = append(b.console, Message{Type: "exception", Text: text, URL: d.URL})
	case *log.EventEntryAdded:
		en := e.Entry
		b.console = append(b.console, Message{Type: string(en.Level), Source: string(en.Source), Text: en.Text, URL: en.URL})
	}
}

func remoteText(a *cdpruntime.RemoteObject) string {
	if a == nil {
		return ""
	}
	if len(a.Value) > 0 {
		var s string
		if json.Unmarshal(a.Value, &s) == nil {
			return s
		}
		return string(a.Value)
	}
	if a.Description != "" {
		return a.Description
	}
	return string(a.Type)
}

// Console returns every console message of every tab so far.
func (b *Browser) Console() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Message(nil), b.console...)
}

// ConsoleErrors returns the console messages of type error or exception,
// and every one that reports a Content-Security-Policy violation or a
// worker that failed, whatever its level.
func (b *Browser) ConsoleErrors() []Message {
	var out []Message
	for _, m := range b.Console() {
		low := strings.ToLower(m.Text)
		if m.Type == "error" || m.Type == "exception" || m.Source == "security" ||
			strings.Contains(low, "content security policy") || strings.Contains(low, "worker") && (strings.Contains(low, "fail") || strings.Contains(low, "could not")) {
			out = append(out, m)
		}
	}
	return out
}

// ForeignRequests returns every recorded request that left origin (a URL
// such as "http://127.0.0.1:41234"); data: URLs, which are no request to
// anyone, are not counted.
func (b *Browser) ForeignRequests(origin string) []string {
	var out []string
	for _, r := range b.Requests() {
		u, err := url.Parse(r)
		if err == nil && u.Scheme == "data" {
			continue
		}
		if err != nil || u.Scheme+"://"+u.Host != origin {
			out = append(out, r)
		}
	}
	return out
}

// Tab opens a new tab of the same browser (its requests are recorded too).
func (b *Browser) Tab() context.Context {
	ctx, cancel := chromedp.NewContext(b.Ctx, chromedp.WithListener(b.record))
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("new tab: %v", err)
	}
	return ctx
}

// Requests returns every URL requested so far.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// Timeout bounds each Do and Value call.
const Timeout = 30 * time.Second

// Do runs steps with a deadline, failing the test on error.
func (b *Browser) Do(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// Value runs one action with a deadline and returns its value, failing the
// test on error.
func Value[T any](b *Browser, ctx context.Context, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// Screenshot writes a full-page PNG to test-artifacts/<name>.png (kept by
// CI, git-ignored) and returns its path.
func (b *Browser) Screenshot(ctx context.Context, name string) string {
	b.t.Helper()
	png := Value(b, ctx, chromedp.FullScreenshot(100)) // 100: PNG; any other quality gives a JPEG
	dir := filepath.Join(Root(), "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// Violation is one axe-core finding.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// Axe runs axe-core (web/node_modules/axe-core) on the tab's page and
// fails the test on any serious or critical violation.
func (b *Browser) Axe(ctx context.Context, page string) {
	b.t.Helper()
	b.axe(ctx, page, "document")
}

// AxeIn is Axe on the elements that match a CSS selector only: the parts of
// a page that are ours, beside markup of a library that is not.
func (b *Browser) AxeIn(ctx context.Context, page, selector string) {
	b.t.Helper()
	sel, _ := json.Marshal(selector)
	b.axe(ctx, page, "{include: [["+string(sel)+"]]}")
}

func (b *Browser) axe(ctx context.Context, page, scope string) {
	b.t.Helper()
	Node(b.t) // axe-core comes from web/node_modules
	src, err := os.ReadFile(filepath.Join(WebDir(), "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		b.t.Fatalf("axe-core: %v", err)
	}
	Value(b, ctx, chromedp.Evaluate[any](string(src)+";true"))
	raw := Value(b, ctx, chromedp.Evaluate[string](`axe.run(`+scope+`, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	var vs []Violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatalf("axe-core result: %v", err)
	}
	var bad []string
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			targets, _ := json.Marshal(v.Nodes)
			bad = append(bad, v.Impact+" "+v.ID+": "+v.Help+" "+string(targets))
		}
	}
	if len(bad) > 0 {
		b.t.Errorf("axe-core on the %s page:\n%s", page, strings.Join(bad, "\n"))
	}
}
