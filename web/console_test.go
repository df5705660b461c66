package web_test

// Browser tests of the Organizations console (GET /): a real headless
// Chromium against the real HTTP handler on a real SQLite database. Every
// page is screenshotted into test-artifacts/ and checked with axe-core.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/oidctest"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/webtest"
	"github.com/neosc/neosc/web"
)

// password is what apitest.Register and apitest.Invite give every account.
func password(email string) string { return "password-" + email }

// seeded is a realistic data set: two customer organizations with admins,
// a member and a few workspaces each.
type seeded struct {
	env              *apitest.Env
	acmeAdmin, grace apitest.Account // Acme Robotics: ADMIN and MEMBER
	globexAdmin      apitest.Account // Globex Logistics: ADMIN
}

func seed(t *testing.T) seeded {
	t.Helper()
	env := apitest.New(t, testdb.New(t, db.SQLite))
	s := seeded{env: env}
	s.acmeAdmin = env.Register("ada.lovelace@acme-robotics.com", "Acme Robotics")
	s.grace = env.Invite(s.acmeAdmin, "grace.hopper@acme-robotics.com", "MEMBER")
	env.Invite(s.acmeAdmin, "alan.turing@acme-robotics.com", "ADMIN")
	s.globexAdmin = env.Register("hank.scorpio@globex-logistics.com", "Globex Logistics")
	env.Invite(s.globexAdmin, "frank.grimes@globex-logistics.com", "MEMBER")
	for _, w := range []struct {
		acc                       apitest.Account
		name, desc, typ, conn, st string
		cpu, mem, disk            int
	}{
		{s.acmeAdmin, "CAD workstation", "GPU desktop for mechanical design", "WINDOWS", "RDP", "RUNNING", 8, 32768, 250},
		{s.acmeAdmin, "Firmware build box", "Cross-compilers for the arm64 controllers", "LINUX", "HTML5", "STOPPED", 16, 65536, 500},
		{s.acmeAdmin, "Secure browser", "Isolated browsing for supplier portals", "BROWSER", "BROWSER", "AVAILABLE", 2, 4096, 20},
		{s.globexAdmin, "Route planner", "Fleet routing dev environment", "DEV", "WEB", "RUNNING", 4, 16384, 100},
	} {
		r := env.Do(w.acc.Token, `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"name": w.name, "description": w.desc, "type": w.typ, "connectionType": w.conn,
				"cpuCores": w.cpu, "memoryMb": w.mem, "storageGb": w.disk}}).OK(t)
		if w.st != "AVAILABLE" {
			env.Do(w.acc.Token, `mutation($id: ID!, $st: WorkspaceStatus!) { updateWorkspace(id: $id, input: {status: $st}) { id } }`,
				map[string]any{"id": r.Get("data.createWorkspace.id").String(), "st": w.st}).OK(t)
		}
	}
	return s
}

// csp is the pages' Content Security Policy as the console must live with
// it (set for real by web.go): no inline script or style, no eval, API calls
// to the own origin (plus the SSO provider's), images from the own origin
// or data: URLs.
func csp(connect ...string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
		"connect-src " + strings.Join(append([]string{"'self'"}, connect...), " ") + "; " +
		"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
}

// site serves env's handler under that policy for the browser; with cfg,
// GET /ui/config.json answers as a deployment with cfg would (SSO).
func site(t *testing.T, env *apitest.Env, cfg *web.Config, connect ...string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", env.Handler)
	if cfg != nil {
		// The pages as a server with this configuration serves them: its
		// config.json, and its Content-Security-Policy (connect-src names
		// the provider), which replaces the test's own.
		mux.Handle("GET /", web.Handler(*cfg))
		mux.Handle("GET /graphql", env.Handler)
		mux.Handle("GET /healthz", env.Handler)
	}
	policy := csp(connect...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// watch fails the test, when it ends, if a page of b broke the Content
// Security Policy, logged an error or threw an uncaught exception.
func watch(t *testing.T, b *webtest.Browser) {
	t.Helper()
	_, err := chromedp.Call(b.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `document.addEventListener('securitypolicyviolation', e =>
			console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));`,
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var problems []string
	console := chromedp.Events(b.Ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(b.Ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				mu.Lock()
				problems = append(problems, "console.error: "+strings.Join(parts, " "))
				mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			mu.Lock()
			problems = append(problems, "uncaught: "+ev.ExceptionDetails.Text+" "+describe(ev.ExceptionDetails.Exception))
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("page error: %s", p)
		}
	})
}

func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	return o.Description
}

// counts is what the API says of an organization's counters.
func counts(t *testing.T, env *apitest.Env, token, orgID string) (users, workspaces int) {
	t.Helper()
	r := env.Do(token, `query($id: ID!) { organization(id: $id) { userCount workspaceCount } }`, map[string]any{"id": orgID}).OK(t)
	return int(r.Get("data.organization.userCount").Int()), int(r.Get("data.organization.workspaceCount").Int())
}

// card is one organization card as the page shows it.
type card struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Users      string `json:"users"`
	Workspaces string `json:"workspaces"`
}

func readCards(t *testing.T, b *webtest.Browser) []card {
	t.Helper()
	raw := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`JSON.stringify([...document.querySelectorAll('[data-testid=org-card]')].map(c => ({
		id: c.dataset.orgId,
		name: c.querySelector('h2').textContent.trim(),
		users: c.querySelector('[data-testid=user-count]').textContent.trim(),
		workspaces: c.querySelector('[data-testid=workspace-count]').textContent.trim(),
	})))`))
	var cs []card
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		t.Fatalf("cards: %v: %s", err, raw)
	}
	return cs
}

func cardOf(t *testing.T, cs []card, orgID string) card {
	t.Helper()
	for _, c := range cs {
		if c.ID == orgID {
			return c
		}
	}
	t.Fatalf("no card for organization %s among %+v", orgID, cs)
	return card{}
}

// signIn fills the sign-in form and waits for the Organizations page.
func signIn(t *testing.T, b *webtest.Browser, base, email string) {
	t.Helper()
	do(t, b,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#signin-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#signin-password`), password(email)),
		chromedp.Click(chromedp.CSS(`[data-testid=signin-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=org-card]`)),
	)
}

// do runs steps like b.Do; on failure it first saves a screenshot of the
// page as test-artifacts/failed-<test>.png, to see what the page showed.
func do(t *testing.T, b *webtest.Browser, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, webtest.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		sctx, scancel := context.WithTimeout(b.Ctx, 5*time.Second)
		defer scancel()
		if img, serr := chromedp.Run(sctx, chromedp.FullScreenshot(100)); serr == nil {
			writeArtifact(t, "failed-"+strings.ReplaceAll(t.Name(), "/", "-"), img)
		}
		t.Fatalf("browser: %v", err)
	}
}

// shot saves a full-page screenshot as test-artifacts/<name>.png. Not
// b.Screenshot: that takes FullScreenshot(90), which is a JPEG, and writes
// it under the .png name; quality 100 is a PNG, which the README can use.
func shot(t *testing.T, b *webtest.Browser, name string) {
	t.Helper()
	writeArtifact(t, name, webtest.Value(b, b.Ctx, chromedp.FullScreenshot(100)))
}

func writeArtifact(t *testing.T, name string, img []byte) {
	t.Helper()
	dir := filepath.Join(webtest.Root(), "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fill sets a form control's value as typing or choosing would: through
// the native setter, then input and change events, so React sees it
// (chromedp.SetValue only sets the property).
func fill(css, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value').set.call(el, %q);
		el.dispatchEvent(new Event('input', {bubbles: true}));
		el.dispatchEvent(new Event('change', {bubbles: true}));
	})()`, css, value))
}

// waitFor polls a JavaScript expression until it is truthy (as do, with a
// screenshot when it never is).
func waitFor(t *testing.T, b *webtest.Browser, expr string) {
	t.Helper()
	do(t, b, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(webtest.Timeout-time.Second)))
}

func location(b *webtest.Browser) string {
	u, _ := url.Parse(webtest.Value(b, b.Ctx, chromedp.Location()))
	return u.Path
}

func countOf(b *webtest.Browser, css string) int {
	return webtest.Value(b, b.Ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, css)))
}

// TestConsoleAdmin walks an organization ADMIN through the console: sign in,
// the card's numbers, the organization page and its tabs, creating a
// workspace through the UI, and another organization's URL.
func TestConsoleAdmin(t *testing.T) {
	t.Parallel()
	s := seed(t)
	env, base := s.env, site(t, s.env, nil)
	b := webtest.NewBrowser(t)
	watch(t, b)

	// Signed out, / sends the browser to the sign-in page.
	do(t, b, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)))
	if got := location(b); got != "/signin" {
		t.Fatalf("signed out, / should lead to /signin, got %s", got)
	}
	b.Axe(b.Ctx, "sign-in")
	shot(t, b, "sign-in")

	// A wrong password is refused on the page, with the API's error code.
	do(t, b,
		chromedp.SendKeys(chromedp.CSS(`#signin-email`), s.acmeAdmin.Email),
		chromedp.SendKeys(chromedp.CSS(`#signin-password`), "not-the-password"),
		chromedp.Click(chromedp.CSS(`[data-testid=signin-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)),
	)
	if msg := webtest.Value(b, b.Ctx, chromedp.Text(chromedp.CSS(`[role=alert]`))); !strings.Contains(msg, "UNAUTHENTICATED") {
		t.Errorf("a wrong password should show an alert with the code, got %q", msg)
	}

	signIn(t, b, base, s.acmeAdmin.Email)
	if got := location(b); got != "/" {
		t.Errorf("after signing in the console should show /, got %s", got)
	}

	// The session token lives in sessionStorage only: not in localStorage,
	// not in a cookie.
	stored := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`JSON.stringify(Object.values(sessionStorage))`))
	if !strings.Contains(stored, "eyJ") {
		t.Errorf("sessionStorage should hold the session token, has %s", stored)
	}
	if n := webtest.Value(b, b.Ctx, chromedp.Evaluate[int](`localStorage.length`)); n != 0 {
		t.Errorf("localStorage should be empty, has %d items", n)
	}
	cookies, err := chromedp.Call(b.Ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cookies.Cookies) != 0 || webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`document.cookie`)) != "" {
		t.Errorf("no cookie should be set, got %+v", cookies.Cookies)
	}

	// One card, the caller's organization, with the API's numbers.
	cs := readCards(t, b)
	if len(cs) != 1 {
		t.Fatalf("an org ADMIN should see one card (their organization), got %+v", cs)
	}
	users, workspaces := counts(t, env, s.acmeAdmin.Token, s.acmeAdmin.OrgID)
	c := cardOf(t, cs, s.acmeAdmin.OrgID)
	if c.Name != "Acme Robotics" || c.Users != strconv.Itoa(users) || c.Workspaces != strconv.Itoa(workspaces) {
		t.Errorf("card %+v, API: %d users, %d workspaces", c, users, workspaces)
	}
	if users != 3 || workspaces != 3 {
		t.Errorf("the seed should give Acme 3 users and 3 workspaces, the API says %d and %d", users, workspaces)
	}
	b.Axe(b.Ctx, "organizations")
	shot(t, b, "organizations-admin")

	// The organization page: workspaces first, with the admin's actions.
	do(t, b,
		chromedp.Click(chromedp.CSS(`[data-testid=org-link]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=workspaces-table]`)),
	)
	if got, want := location(b), "/organizations/"+s.acmeAdmin.OrgID; got != want {
		t.Errorf("the card should lead to %s, got %s", want, got)
	}
	if n := countOf(b, `[data-testid=workspace-row]`); n != 3 {
		t.Errorf("3 workspace rows expected, got %d", n)
	}
	if n := countOf(b, `[data-admin-action]`); n == 0 {
		t.Error("an ADMIN should see admin actions on the workspaces tab")
	}
	b.Axe(b.Ctx, "organization")
	shot(t, b, "organization")

	// Create a workspace through the form.
	do(t, b,
		chromedp.Click(chromedp.CSS(`[data-admin-action=create-workspace]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=workspace-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#ws-new-name`), "Data science notebook"),
		chromedp.SendKeys(chromedp.CSS(`#ws-new-description`), "Jupyter for the analytics team"),
		fill(`#ws-new-type`, "DEV"),
		fill(`#ws-new-connection`, "WEB"),
	)
	b.Axe(b.Ctx, "organization-workspace-form")
	do(t, b,
		chromedp.Click(chromedp.CSS(`[data-admin-action=save-workspace]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=notice]`)),
	)
	waitFor(t, b, `document.querySelectorAll('[data-testid=workspace-row]').length === 4`)
	// The organization's counter above the tabs follows.
	waitFor(t, b, `document.querySelector('[data-testid=org-workspace-count]').textContent === '4'`)
	r := env.Do(s.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { workspaces(first: 10) { nodes { name type connectionType } } } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)
	if !strings.Contains(r.Get("data.organization.workspaces.nodes.#.name").String(), "Data science notebook") {
		t.Errorf("the API does not list the workspace created in the browser: %s", r.Body)
	}

	// Stop the running CAD workstation: its status changes in the API.
	do(t, b, chromedp.Click(chromedp.CSS(`[data-admin-action=stop-workspace]`)))
	waitFor(t, b, `document.querySelectorAll('[data-admin-action=stop-workspace]').length === 0`)
	r = env.Do(s.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { workspaces(first: 10) { nodes { name status } } } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)
	if strings.Contains(r.Get("data.organization.workspaces.nodes.#.status").String(), "RUNNING") {
		t.Errorf("Stop should have stopped the running workspace: %s", r.Body)
	}

	// Edit: rename the secure browser and give it more memory.
	do(t, b,
		chromedp.Click(chromedp.CSS(`[aria-label="Edit Secure browser"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=workspace-form]`)),
		fill(`[data-testid=workspace-form] input[id$=-name]`, "Supplier portal browser"),
		fill(`[data-testid=workspace-form] input[id$=-memoryMb]`, "8192"),
		chromedp.Click(chromedp.CSS(`[data-admin-action=save-workspace]`)),
	)
	waitFor(t, b, `[...document.querySelectorAll('[data-testid=workspace-row] th .cell-title')].some(e => e.textContent === 'Supplier portal browser')`)
	r = env.Do(s.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { workspaces(first: 10) { nodes { name memoryMb } } } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)
	if !strings.Contains(string(r.Body), `{"name":"Supplier portal browser","memoryMb":8192}`) {
		t.Errorf("Edit should have renamed the workspace and set its memory: %s", r.Body)
	}

	// Delete asks first; Cancel keeps the workspace, Delete removes it.
	do(t, b,
		chromedp.Click(chromedp.CSS(`[aria-label="Delete Firmware build box"]`)),
		chromedp.Click(chromedp.Search(`//button[text()="Cancel"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[aria-label="Delete Firmware build box"]`)),
	)
	if _, w := counts(t, env, s.acmeAdmin.Token, s.acmeAdmin.OrgID); w != 4 {
		t.Fatalf("Cancel should keep the workspace: %d workspaces", w)
	}
	do(t, b,
		chromedp.Click(chromedp.CSS(`[aria-label="Delete Firmware build box"]`)),
		chromedp.Click(chromedp.CSS(`[data-admin-action=confirm-delete-workspace]`)),
	)
	waitFor(t, b, `document.querySelectorAll('[data-testid=workspace-row]').length === 3`)
	if _, w := counts(t, env, s.acmeAdmin.Token, s.acmeAdmin.OrgID); w != 3 {
		t.Errorf("Delete should have deleted the workspace: the API counts %d", w)
	}
	// And one more, so that the card below counts 4 again.
	do(t, b,
		chromedp.Click(chromedp.CSS(`[data-admin-action=create-workspace]`)),
		chromedp.SendKeys(chromedp.CSS(`#ws-new-name`), "Firmware build box 2"),
		chromedp.Click(chromedp.CSS(`[data-admin-action=save-workspace]`)),
	)
	waitFor(t, b, `document.querySelectorAll('[data-testid=workspace-row]').length === 4`)

	// Back on the Organizations page the card counts the new workspace.
	do(t, b,
		chromedp.Click(chromedp.CSS(`nav[aria-label=Main] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=org-card]`)),
	)
	users, workspaces = counts(t, env, s.acmeAdmin.Token, s.acmeAdmin.OrgID)
	c = cardOf(t, readCards(t, b), s.acmeAdmin.OrgID)
	if workspaces != 4 || c.Workspaces != "4" || c.Users != strconv.Itoa(users) {
		t.Errorf("after creating a workspace: card %+v, API %d users %d workspaces", c, users, workspaces)
	}

	// The admin-only tabs.
	orgURL := base + "/organizations/" + s.acmeAdmin.OrgID
	do(t, b, chromedp.Navigate(orgURL+"/members"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=members-table]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=invite-form]`)))
	if n := countOf(b, `[data-testid=member-row]`); n != 3 {
		t.Errorf("3 members expected, got %d", n)
	}
	do(t, b,
		chromedp.SendKeys(chromedp.CSS(`#invite-email`), "margaret.hamilton@acme-robotics.com"),
		fill(`#invite-role`, "ADMIN"),
		chromedp.Click(chromedp.CSS(`[data-admin-action=invite-user]`)),
		chromedp.WaitVisible(chromedp.CSS(`[aria-label="Revoke the invitation for margaret.hamilton@acme-robotics.com"]`)),
	)
	r = env.Do(s.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { invitations(first: 5, status: PENDING) { nodes { email role } } } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)
	if !strings.Contains(string(r.Body), `{"email":"margaret.hamilton@acme-robotics.com","role":"ADMIN"}`) {
		t.Errorf("the invitation sent in the browser is not pending in the API: %s", r.Body)
	}
	b.Axe(b.Ctx, "organization-members")
	shot(t, b, "organization-members")

	do(t, b, chromedp.Navigate(orgURL+"/tokens"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#token-name`), "Billing sync"),
		chromedp.Click(chromedp.CSS(`[data-admin-action=create-token]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-secret]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-row]`)),
	)
	secret := webtest.Value(b, b.Ctx, chromedp.Value(chromedp.CSS(`[data-testid=token-secret]`)))
	// The secret shown once is a working API token with the chosen scope.
	env.Do(secret, `query($id: ID!) { organization(id: $id) { workspaces(first: 1) { totalCount } } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)
	b.Axe(b.Ctx, "organization-tokens")
	shot(t, b, "organization-tokens")
	do(t, b, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-row]`)))
	if n := countOf(b, `[data-testid=token-secret]`); n != 0 {
		t.Error("the token's secret should be shown once, not again after a reload")
	}

	do(t, b, chromedp.Navigate(orgURL+"/audit"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit-row]`)))
	b.Axe(b.Ctx, "organization-audit")
	shot(t, b, "organization-audit")
	do(t, b,
		chromedp.SendKeys(chromedp.CSS(`#audit-actions`), "workspace.created"),
		chromedp.Click(chromedp.CSS(`[data-testid=audit-filters] button[type=submit]`)),
	)
	// Seeded: three; plus the two created in the browser.
	waitFor(t, b, `[...document.querySelectorAll('[data-testid=audit-row] th')].length === 5 &&
		[...document.querySelectorAll('[data-testid=audit-row] th')].every(th => th.textContent === 'workspace.created')`)

	do(t, b, chromedp.Navigate(orgURL+"/grants"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=grant-form]`)))
	b.Axe(b.Ctx, "organization-grants")

	// Another organization's URL: "not found", as for an ID that does not exist.
	do(t, b,
		chromedp.Navigate(base+"/organizations/"+s.globexAdmin.OrgID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=not-found]`)),
	)
	if got := webtest.Value(b, b.Ctx, chromedp.Text(chromedp.CSS(`[data-testid=not-found] h1`))); got != "Organization not found" {
		t.Errorf("another organization's page should say %q, got %q", "Organization not found", got)
	}
	if strings.Contains(webtest.Value(b, b.Ctx, chromedp.Text(chromedp.CSS(`main`))), "Globex") {
		t.Error("the not-found page must not show the other organization's name")
	}
	shot(t, b, "organization-not-found")

	// Signing out ends the session on the server too.
	do(t, b, chromedp.Navigate(orgURL+"/members"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=members-table]`)))
	stored = webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`Object.values(sessionStorage).find(v => v.startsWith('eyJ')) || ''`))
	do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)))
	env.Do(stored, `{ me { id } }`, nil).Want(t, "UNAUTHENTICATED")
	if n := webtest.Value(b, b.Ctx, chromedp.Evaluate[int](`sessionStorage.length`)); n != 0 {
		t.Errorf("sessionStorage should be empty after signing out, has %d items", n)
	}
	// The next user to sign in starts at the Organizations page, not at the
	// page the last one left.
	signIn(t, b, base, s.grace.Email)
	if got := location(b); got != "/" {
		t.Errorf("after a sign-out, signing in should lead to /, got %s", got)
	}
}

// TestConsoleMember: a MEMBER sees the organization read-only, with no
// admin action in the DOM and without the admin-only tabs.
func TestConsoleMember(t *testing.T) {
	t.Parallel()
	s := seed(t)
	base := site(t, s.env, nil)
	b := webtest.NewBrowser(t)
	watch(t, b)

	// A link to the organization's members, opened signed out, leads there
	// after signing in.
	do(t, b,
		chromedp.Navigate(base+"/organizations/"+s.grace.OrgID+"/members"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#signin-email`), s.grace.Email),
		chromedp.SendKeys(chromedp.CSS(`#signin-password`), password(s.grace.Email)),
		chromedp.Click(chromedp.CSS(`[data-testid=signin-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=members-table]`)),
	)
	if got, want := location(b), "/organizations/"+s.grace.OrgID+"/members"; got != want {
		t.Errorf("after signing in the console should return to %s, is at %s", want, got)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`nav[aria-label=Main] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=org-card]`)))

	users, workspaces := counts(t, s.env, s.grace.Token, s.grace.OrgID)
	c := cardOf(t, readCards(t, b), s.grace.OrgID)
	if c.Users != strconv.Itoa(users) || c.Workspaces != strconv.Itoa(workspaces) {
		t.Errorf("card %+v, API: %d users, %d workspaces", c, users, workspaces)
	}

	orgURL := base + "/organizations/" + s.grace.OrgID
	do(t, b, chromedp.Navigate(orgURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid=workspaces-table]`)))
	if n := countOf(b, `[data-testid=workspace-row]`); n != 3 {
		t.Errorf("a member should see the 3 workspaces, got %d", n)
	}
	if n := countOf(b, `[data-admin-action], [data-testid=workspace-form]`); n != 0 {
		t.Errorf("a MEMBER should see no admin action on the workspaces tab, found %d", n)
	}
	for _, tab := range []string{"grants", "tokens", "audit"} {
		if n := countOf(b, `[data-testid=tab-`+tab+`]`); n != 0 {
			t.Errorf("a MEMBER should not see the %s tab", tab)
		}
	}
	b.Axe(b.Ctx, "organization-member")
	shot(t, b, "organization-member")
	// A phone-sized screen.
	do(t, b, chromedp.EmulateViewport(390, 844))
	b.Axe(b.Ctx, "organization-member-narrow")
	shot(t, b, "organization-member-narrow")
	do(t, b, chromedp.EmulateViewport(1280, 900))

	do(t, b, chromedp.Navigate(orgURL+"/members"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=members-table]`)))
	if n := countOf(b, `[data-admin-action], [data-testid=invite-form]`); n != 0 {
		t.Errorf("a MEMBER should see no admin action on the members tab, found %d", n)
	}
	// An admin-only tab by URL falls back to the first tab, no admin actions.
	do(t, b, chromedp.Navigate(orgURL+"/tokens"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=workspaces-table]`)))
	if n := countOf(b, `[data-admin-action], [data-testid=token-form]`); n != 0 {
		t.Errorf("a MEMBER at /tokens should see no admin action, found %d", n)
	}

	// Another organization's URL.
	do(t, b, chromedp.Navigate(base+"/organizations/"+s.globexAdmin.OrgID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=not-found]`)))
}

// TestConsoleOrganizations: a platform administrator sees every
// organization, each card with the API's numbers. Its screenshot is the
// README's (docs/images/organizations.png).
func TestConsoleOrganizations(t *testing.T) {
	t.Parallel()
	s := seed(t)
	env, base := s.env, site(t, s.env, nil)
	// Platform administrators are made with `neosc create-admin`, not
	// through the API: promote a registered user the same way, in SQL.
	op := env.Register("olivia.ops@neosc.example", "")
	env.Exec("UPDATE users SET platform_admin = ? WHERE email = ?", true, op.Email)
	// A quota for Acme (its cards show meters) and a brand colour for
	// Globex (its card's accent), for the screenshot.
	env.Do(op.Token, `mutation($id: ID!) { setOrganizationQuota(id: $id, input: {maxUsers: 10, maxWorkspaces: 5, maxCpuCores: 32}) { id } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)
	env.Do(s.globexAdmin.Token, `mutation($id: ID!) { updateOrganizationBranding(id: $id, input: {primaryColor: "#0F766E"}) { id } }`,
		map[string]any{"id": s.globexAdmin.OrgID}).OK(t)

	b := webtest.NewBrowser(t)
	watch(t, b)
	signIn(t, b, base, op.Email)
	if got := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-org-id="`+s.acmeAdmin.OrgID+`"] .usage-text')].map(l => l.textContent).join('|')`)); got != "3 / 10 users|3 / 5 workspaces|26 / 32 CPU cores" {
		t.Errorf("Acme's card should show its three limited resources, shows %q", got)
	}
	if got := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('[data-org-id="`+s.globexAdmin.OrgID+`"]')).borderTopColor`)); got != "rgb(15, 118, 110)" {
		t.Errorf("Globex's card should take its brand colour, has %s", got)
	}
	r := env.Do(op.Token, `{ organizations(first: 100) { totalCount nodes { id name userCount workspaceCount } } }`, nil).OK(t)
	cs := readCards(t, b)
	if want := int(r.Get("data.organizations.totalCount").Int()); len(cs) != want || want < 3 {
		t.Fatalf("a platform admin should see every organization (%d), got %+v", want, cs)
	}
	for _, o := range r.Get("data.organizations.nodes").Array() {
		c := cardOf(t, cs, o.Get("id").String())
		if c.Name != o.Get("name").String() || c.Users != o.Get("userCount").String() || c.Workspaces != o.Get("workspaceCount").String() {
			t.Errorf("card %+v, API %s", c, o.Raw)
		}
	}
	b.Axe(b.Ctx, "organizations-platform")
	shot(t, b, "organizations")

	// The audit log pages by cursor: 15 more events make Acme's more than
	// one page (25 a page); Next shows the older ones, Previous the first page again.
	ws := env.CreateWorkspace(s.acmeAdmin, "Load test rig")
	for i := range 15 {
		env.Do(s.acmeAdmin.Token, `mutation($id: ID!, $d: String!) { updateWorkspace(id: $id, input: {description: $d}) { id } }`,
			map[string]any{"id": ws, "d": fmt.Sprintf("run %d", i)}).OK(t)
	}
	firstIDs := `[...document.querySelectorAll('[data-testid=audit-row]')].map(r => r.querySelector('td').textContent + r.querySelector('th').textContent).join('|')`
	do(t, b, chromedp.Navigate(base+"/organizations/"+s.acmeAdmin.OrgID+"/audit"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit-row]`)))
	if n := countOf(b, `[data-testid=audit-row]`); n != 25 {
		t.Fatalf("the first audit page should have 25 events, has %d", n)
	}
	page1 := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](firstIDs))
	do(t, b, chromedp.Click(chromedp.CSS(`nav[aria-label="Audit log pages"] button:last-child`)))
	waitFor(t, b, `document.querySelector('nav[aria-label="Audit log pages"] span').textContent === 'Page 2' &&
		document.querySelectorAll('[data-testid=audit-row]').length > 0`)
	if webtest.Value(b, b.Ctx, chromedp.Evaluate[string](firstIDs)) == page1 {
		t.Error("Next should show other events")
	}
	if last := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-testid=audit-row] th')].pop().textContent`)); last != "organization.created" {
		t.Errorf("the last page should end with the oldest event, organization.created, got %s", last)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`nav[aria-label="Audit log pages"] button:first-child`)))
	waitFor(t, b, `document.querySelector('nav[aria-label="Audit log pages"] span').textContent === 'Page 1' &&
		document.querySelectorAll('[data-testid=audit-row]').length === 25`)
	if webtest.Value(b, b.Ctx, chromedp.Evaluate[string](firstIDs)) != page1 {
		t.Error("Previous should show the first page again")
	}

	// A platform admin reads another organization's admin tabs but cannot
	// act in it: no admin actions.
	do(t, b, chromedp.Navigate(base+"/organizations/"+s.globexAdmin.OrgID+"/audit"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit-row]`)))
	if n := countOf(b, `[data-admin-action]`); n != 0 {
		t.Errorf("a platform admin should see no admin actions in another organization, found %d", n)
	}
}

// codeFront adds the authorization-code grant with PKCE in front of an
// oidctest provider, which issues its real, signed access tokens only with
// client_credentials (its authorize endpoint needs a login UI it does not
// have). The browser sees a provider: discovery (the provider's own
// document with this front's authorize and token endpoints), an authorize
// endpoint that signs the user in at once and redirects back with a code,
// and a token endpoint that checks the code, client, redirect URI and PKCE
// verifier (S256) before it hands out the access token minted beforehand
// by the real provider.
type codeFront struct {
	op          *oidctest.Provider
	clientID    string
	redirectURI string
	accessToken string

	mu         sync.Mutex
	url        string
	code       string // the code issued, until redeemed
	challenge  string
	authorized url.Values // the authorize request's query
	problems   []string   // requests the front refused, and why
	redeemed   int
	// tamper sends the browser back with another state than it was given,
	// as an attacker's link with their own code would.
	tamper bool
}

func (f *codeFront) refuse(w http.ResponseWriter, why string) {
	f.problems = append(f.problems, why)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": why})
}

func (f *codeFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		res, err := http.Get(f.op.DiscoveryURL())
		if err != nil {
			f.refuse(w, err.Error())
			return
		}
		defer res.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
			f.refuse(w, err.Error())
			return
		}
		// The front is the console's provider: its discovery names it as
		// the issuer, as a provider's must (the console checks).
		doc["issuer"], doc["authorization_endpoint"], doc["token_endpoint"] = f.url, f.url+"/authorize", f.url+"/token"
		doc["code_challenge_methods_supported"] = []string{"S256"}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	case "/authorize":
		q := r.URL.Query()
		switch {
		case q.Get("response_type") != "code":
			f.refuse(w, "response_type is not code")
		case q.Get("client_id") != f.clientID:
			f.refuse(w, "unknown client_id "+q.Get("client_id"))
		case q.Get("redirect_uri") != f.redirectURI:
			f.refuse(w, "redirect_uri not registered: "+q.Get("redirect_uri"))
		case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
			f.refuse(w, "PKCE S256 challenge missing")
		case q.Get("state") == "":
			f.refuse(w, "state missing")
		default:
			f.authorized, f.challenge = q, q.Get("code_challenge")
			f.code = "code-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			state := q.Get("state")
			if f.tamper {
				state = "attacker-" + state
			}
			http.Redirect(w, r, f.redirectURI+"?"+url.Values{"code": {f.code}, "state": {state}}.Encode(), http.StatusFound)
		}
	case "/token":
		if r.Method != http.MethodPost {
			f.refuse(w, "token endpoint: "+r.Method)
			return
		}
		_ = r.ParseForm()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case r.PostForm.Get("grant_type") != "authorization_code":
			f.refuse(w, "grant_type is not authorization_code")
		case f.code == "" || r.PostForm.Get("code") != f.code:
			f.refuse(w, "unknown or used code")
		case r.PostForm.Get("client_id") != f.clientID:
			f.refuse(w, "token request for another client")
		case r.PostForm.Get("redirect_uri") != f.redirectURI:
			f.refuse(w, "redirect_uri differs from the authorize request's")
		case base64.RawURLEncoding.EncodeToString(sum[:]) != f.challenge:
			f.refuse(w, "code_verifier does not match the code_challenge")
		default:
			f.code = "" // single use
			f.redeemed++
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": f.accessToken, "token_type": "Bearer", "expires_in": 600})
		}
	default:
		http.NotFound(w, r)
	}
}

// TestConsoleSSO signs in with "Sign in with SSO": authorization code with
// PKCE in the browser, then ssoLogin with the provider's real access token,
// which the real handler verifies against the provider's keys.
func TestConsoleSSO(t *testing.T) {
	t.Parallel()
	op := oidctest.Start(t)
	env := apitest.New(t, testdb.New(t, db.SQLite), apitest.WithOIDC(op.Issuer, op.ClientID(), strings.Split(config.DefaultOrgClaims, ",")))
	front := &codeFront{op: op, clientID: "neosc-console",
		accessToken: op.Token(t, oidctest.User{Subject: "u-771", Email: "peter.gibbons@initech.example", Name: "Peter Gibbons",
			OrgID: "org-initech", OrgName: "Initech", OrgPrimaryDomain: "initech.example",
			Roles: map[string]map[string]string{"admin": {"org-initech": "initech.example"}}})}
	frontSrv := httptest.NewServer(front)
	t.Cleanup(frontSrv.Close)
	front.url = frontSrv.URL

	// The console's server: the real handler, with /ui/config.json naming
	// the front as the console's provider (NEOSC_OIDC_ISSUER and
	// NEOSC_OIDC_CLIENT_ID of a deployment), and the provider's origin in
	// the policy's connect-src.
	base := site(t, env, &web.Config{OIDCIssuer: front.url, OIDCClientID: front.clientID}, front.url)
	front.redirectURI = base + "/signin/callback"

	b := webtest.NewBrowser(t)
	watch(t, b)
	do(t, b,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=sso-signin]`)),
	)
	b.Axe(b.Ctx, "sign-in-sso")
	shot(t, b, "sign-in-sso")
	do(t, b,
		chromedp.Click(chromedp.CSS(`[data-testid=sso-signin]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=org-card]`)),
	)

	front.mu.Lock()
	problems, redeemed, authorized := front.problems, front.redeemed, front.authorized
	front.mu.Unlock()
	if len(problems) > 0 || redeemed != 1 {
		t.Fatalf("the front refused %q; codes redeemed: %d", problems, redeemed)
	}
	for _, scope := range []string{"openid", "profile", "email", "urn:zitadel:iam:user:resourceowner"} {
		if !slices.Contains(strings.Fields(authorized.Get("scope")), scope) {
			t.Errorf("the console should ask for scope %s, asked %q", scope, authorized.Get("scope"))
		}
	}

	// The tab keeps NeoSC's session token (not the provider's), and the
	// provider's flow state is gone.
	stored := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`JSON.stringify(Object.entries(sessionStorage))`))
	var entries [][2]string
	if err := json.Unmarshal([]byte(stored), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("sessionStorage should hold the session token only, has %s", stored)
	}
	session := entries[0][1]
	if session == front.accessToken {
		t.Fatal("the console kept the provider's token instead of NeoSC's")
	}
	r := env.Do(session, `{ me { name role ssoIssuer organization { id name } } }`, nil).OK(t)
	if r.Get("data.me.ssoIssuer").String() != op.Issuer || r.Get("data.me.organization.name").String() != "Initech" ||
		r.Get("data.me.role").String() != "ADMIN" {
		t.Errorf("the SSO session is not Initech's admin from the provider: %s", r.Body)
	}
	c := cardOf(t, readCards(t, b), r.Get("data.me.organization.id").String())
	if c.Name != "Initech" {
		t.Errorf("card %+v", c)
	}
	if n := webtest.Value(b, b.Ctx, chromedp.Evaluate[int](`localStorage.length`)); n != 0 {
		t.Errorf("localStorage should be empty, has %d items", n)
	}

	// A callback that this tab did not start (no flow state) is refused.
	do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)),
		chromedp.Navigate(base+"/signin/callback?code=forged&state=forged"),
		chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	if n := webtest.Value(b, b.Ctx, chromedp.Evaluate[int](`sessionStorage.length`)); n != 0 {
		t.Errorf("a forged callback should not sign in, sessionStorage has %d items", n)
	}

	// A flow this tab started, answered with another state (a code meant
	// for someone else's sign-in): refused, and the code is not redeemed.
	front.mu.Lock()
	front.tamper = true
	front.mu.Unlock()
	do(t, b,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=sso-signin]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=sso-signin]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	front.mu.Lock()
	redeemed = front.redeemed
	front.mu.Unlock()
	if redeemed != 1 {
		t.Errorf("a callback with another state redeemed its code (%d codes redeemed, want 1)", redeemed)
	}
	if n := webtest.Value(b, b.Ctx, chromedp.Evaluate[int](`sessionStorage.length`)); n != 0 {
		t.Errorf("a callback with another state should not sign in, sessionStorage has %d items", n)
	}
}
