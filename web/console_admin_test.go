package web_test

// Browser tests of the console's administration (issue 11): quota meters
// and a quota refusal, the members' roles, the platform administrator's
// organization actions, the usage report and its CSV, policy and branding.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/webtest"
)

// platformAdmin registers an operator and makes them a platform
// administrator the way `neosc create-admin` does: in SQL.
func platformAdmin(t *testing.T, env *apitest.Env) apitest.Account {
	t.Helper()
	op := env.Register("olivia.ops@neosc.example", "")
	env.Exec("UPDATE users SET platform_admin = ? WHERE email = ?", true, op.Email)
	return op
}

// text is the trimmed text of the first element matching css ("" if none).
func text(b *webtest.Browser, css string) string {
	return webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(css)+`)?.textContent ?? '').trim()`))
}

// TestConsoleQuotaRefusal: a platform administrator sets Acme's workspace
// limit to its current count through the API; the card shows the meter at
// its limit, and the org admin's new workspace is refused with
// QUOTA_EXCEEDED on the page (and not created).
func TestConsoleQuotaRefusal(t *testing.T) {
	t.Parallel()
	s := seed(t)
	env, base := s.env, site(t, s.env, nil)
	op := platformAdmin(t, env)
	env.Do(op.Token, `mutation($id: ID!) { setOrganizationQuota(id: $id, input: {maxWorkspaces: 3, maxUsers: 10}) { id } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)

	b := webtest.NewBrowser(t)
	watch(t, b)
	signIn(t, b, base, s.acmeAdmin.Email)
	card := `[data-testid=org-card][data-org-id="` + s.acmeAdmin.OrgID + `"]`
	if got := text(b, card+` [data-testid=usage-workspaces] label`); !strings.HasPrefix(got, "3 / 3 workspaces") {
		t.Errorf("the card's workspace meter should read 3 / 3 workspaces, got %q", got)
	}
	if got := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`document.querySelector('`+card+` [data-testid=usage-workspaces]').dataset.full`)); got != "true" {
		t.Errorf("the workspace meter should be marked full, got %q", got)
	}
	if got := text(b, card+` [data-testid=usage-users] label`); got != "3 / 10 users" {
		t.Errorf("the card's user meter should read 3 / 10 users, got %q", got)
	}
	// Unlimited resources have no meter; the meters are labelled.
	if n := countOf(b, card+` meter`); n != 2 {
		t.Errorf("two limited resources should give two meters, got %d", n)
	}
	if n := webtest.Value(b, b.Ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('`+card+` meter')].filter(m => m.labels.length === 1 && m.getAttribute('aria-valuetext')).length`)); n != 2 {
		t.Errorf("every meter should have a label and a value text, %d have", n)
	}
	b.Axe(b.Ctx, "organizations-quota")
	shot(t, b, "organizations-quota")

	// The org admin tries to create a fourth workspace.
	do(t, b,
		chromedp.Click(chromedp.CSS(`[data-testid=org-link]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=workspaces-table]`)),
		chromedp.Click(chromedp.CSS(`[data-admin-action=create-workspace]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=workspace-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#ws-new-name`), "One too many"),
		chromedp.Click(chromedp.CSS(`[data-admin-action=save-workspace]`)),
	)
	waitFor(t, b, `[...document.querySelectorAll('[role=alert]')].some(a => a.textContent.includes('QUOTA_EXCEEDED'))`)
	if got := text(b, `[data-testid=org-usage-workspaces] label, [data-testid=usage-workspaces] label`); !strings.HasPrefix(got, "3 / 3 workspaces") {
		t.Errorf("the organization page's meter should read 3 / 3 workspaces, got %q", got)
	}
	b.Axe(b.Ctx, "organization-quota-exceeded")
	shot(t, b, "organization-quota-exceeded")
	if _, ws := counts(t, env, s.acmeAdmin.Token, s.acmeAdmin.OrgID); ws != 3 {
		t.Errorf("the refused workspace should not exist: the API counts %d workspaces", ws)
	}
}

// TestConsoleRoleChange: an admin's demotion of the last other admin is
// refused with CONFLICT on the page; an admin promotes a member in the UI,
// the API confirms, and the member then sees admin actions. Deactivate and
// Reactivate reach the API too.
func TestConsoleRoleChange(t *testing.T) {
	t.Parallel()
	s := seed(t)
	env, base := s.env, site(t, s.env, nil)
	alan := "alan.turing@acme-robotics.com"
	alanID := env.Do(s.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { users(first: 10) { nodes { id email } } } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t).Get(`data.organization.users.nodes.#(email=="` + alan + `").id`).String()
	// Ada is made the only ADMIN.
	env.Do(s.acmeAdmin.Token, `mutation($u: ID!) { setUserRole(userId: $u, role: MEMBER) { id } }`, map[string]any{"u": alanID}).OK(t)

	b := webtest.NewBrowser(t)
	watch(t, b)
	signIn(t, b, base, s.acmeAdmin.Email)
	members := base + "/organizations/" + s.acmeAdmin.OrgID + "/members"
	row := func(email string) string { return `tr[data-email="` + email + `"]` }
	do(t, b, chromedp.Navigate(members), chromedp.WaitVisible(chromedp.CSS(row(s.grace.Email)+` select`)))
	b.Axe(b.Ctx, "organization-members-admin")

	// Demoting herself, the last admin: CONFLICT, shown with its code.
	do(t, b, fill(row(s.acmeAdmin.Email)+` select`, "MEMBER"))
	waitFor(t, b, `[...document.querySelectorAll('[role=alert]')].some(a => a.textContent.includes('CONFLICT'))`)
	if role := env.Do(s.acmeAdmin.Token, `{ me { role } }`, nil).OK(t).Get("data.me.role").String(); role != "ADMIN" {
		t.Errorf("the last admin's demotion should be refused, the API says %s", role)
	}
	shot(t, b, "members-conflict")

	// Promote Grace.
	do(t, b, fill(row(s.grace.Email)+` select`, "ADMIN"))
	waitFor(t, b, `document.querySelector('[data-testid=member-notice]')?.textContent.includes('grace.hopper is now an admin')`)
	if role := env.Do(s.grace.Token, `{ me { role } }`, nil).OK(t).Get("data.me.role").String(); role != "ADMIN" {
		t.Errorf("the API should say Grace is an ADMIN now, says %s", role)
	}
	if n := countOf(b, `[role=alert]`); n != 0 {
		t.Errorf("the CONFLICT alert should be gone after a change that worked, %d alerts", n)
	}

	// Deactivate Alan, then reactivate him.
	userStatus := func() string {
		return env.Do(s.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { users(first: 10) { nodes { email status } } } }`,
			map[string]any{"id": s.acmeAdmin.OrgID}).OK(t).Get(`data.organization.users.nodes.#(email=="` + alan + `").status`).String()
	}
	do(t, b, chromedp.Click(chromedp.CSS(row(alan)+` [data-admin-action=deactivate-user]`)),
		chromedp.WaitVisible(chromedp.CSS(row(alan)+` [data-admin-action=reactivate-user]`)))
	if st := userStatus(); st != "DEACTIVATED" {
		t.Errorf("Deactivate: the API says %s", st)
	}
	shot(t, b, "members-admin")
	do(t, b, chromedp.Click(chromedp.CSS(row(alan)+` [data-admin-action=reactivate-user]`)),
		chromedp.WaitVisible(chromedp.CSS(row(alan)+` [data-admin-action=deactivate-user]`)))
	if st := userStatus(); st != "ACTIVE" {
		t.Errorf("Reactivate: the API says %s", st)
	}

	// Grace signs in and now has the admin's actions and tabs.
	do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=signin-form]`)))
	signIn(t, b, base, s.grace.Email)
	do(t, b, chromedp.Navigate(members), chromedp.WaitVisible(chromedp.CSS(row(s.acmeAdmin.Email)+` select`)))
	if n := countOf(b, `[data-admin-action]`); n == 0 {
		t.Error("the promoted member should see admin actions")
	}
	if n := countOf(b, `[data-testid=tab-tokens], [data-testid=tab-usage], [data-testid=tab-settings]`); n != 3 {
		t.Errorf("the promoted member should see the admin tabs, sees %d of 3", n)
	}
}

// TestConsolePlatformAdmin: a platform administrator creates an
// organization with a quota, changes another's quota, suspends it (with a
// reason) and reactivates it, all through the pages.
func TestConsolePlatformAdmin(t *testing.T) {
	t.Parallel()
	s := seed(t)
	env, base := s.env, site(t, s.env, nil)
	op := platformAdmin(t, env)

	b := webtest.NewBrowser(t)
	watch(t, b)
	signIn(t, b, base, op.Email)
	do(t, b,
		chromedp.Click(chromedp.CSS(`[data-platform-action=new-organization]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=new-org-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#new-org-name`), "Initech"),
		chromedp.SendKeys(chromedp.CSS(`#new-org-domain`), "initech.com"),
		chromedp.SendKeys(chromedp.CSS(`#new-org-quota-maxUsers`), "25"),
		chromedp.SendKeys(chromedp.CSS(`#new-org-quota-maxWorkspaces`), "5"),
	)
	b.Axe(b.Ctx, "organizations-new")
	shot(t, b, "organizations-new")
	do(t, b, chromedp.Click(chromedp.CSS(`[data-platform-action=create-organization]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=notice]`)))
	r := env.Do(op.Token, `{ organizations(first: 10, filter: {search: "initech"}) { nodes { id name domain status quota { maxUsers maxWorkspaces maxCpuCores } } } }`, nil).OK(t)
	org := r.Get("data.organizations.nodes.0")
	if org.Get("name").String() != "Initech" || org.Get("quota.maxUsers").Int() != 25 || org.Get("quota.maxWorkspaces").Int() != 5 ||
		org.Get("quota.maxCpuCores").Exists() && org.Get("quota.maxCpuCores").Type.String() != "Null" {
		t.Errorf("the API should have Initech with maxUsers 25, maxWorkspaces 5, the rest unlimited: %s", r.Body)
	}
	waitFor(t, b, `document.querySelector('[data-testid=org-card][data-org-id="`+org.Get("id").String()+`"] [data-testid=usage-workspaces]')?.textContent.startsWith('0 / 5 workspaces')`)

	// Acme's Platform tab: a quota, then suspend and reactivate.
	do(t, b, chromedp.Navigate(base+"/organizations/"+s.acmeAdmin.OrgID+"/platform"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=quota-form]`)))
	if n := countOf(b, `[data-admin-action]`); n != 0 {
		t.Errorf("a platform admin should see no org-admin actions in another organization, found %d", n)
	}
	do(t, b,
		fill(`#quota-maxCpuCores`, "64"),
		fill(`#quota-maxWorkspaces`, "10"),
		chromedp.Click(chromedp.CSS(`[data-platform-action=save-quota]`)),
	)
	waitFor(t, b, `document.querySelector('[data-testid=notice]')?.textContent === 'Quota saved.'`)
	q := env.Do(op.Token, `query($id: ID!) { organization(id: $id) { quota { maxWorkspaces maxCpuCores maxUsers } } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)
	if q.Get("data.organization.quota.maxCpuCores").Int() != 64 || q.Get("data.organization.quota.maxWorkspaces").Int() != 10 {
		t.Errorf("the API should have Acme's new quota: %s", q.Body)
	}
	waitFor(t, b, `document.querySelector('[data-testid=usage-cpuCores] label')?.textContent.startsWith('26 / 64 CPU cores')`)
	b.Axe(b.Ctx, "organization-platform")
	shot(t, b, "organization-platform")

	do(t, b,
		chromedp.SendKeys(chromedp.CSS(`#status-reason`), "Unpaid invoice"),
		chromedp.Click(chromedp.CSS(`[data-platform-action=suspend-organization]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-platform-action=reactivate-organization]`)),
	)
	if st := env.Do(op.Token, `query($id: ID!) { organization(id: $id) { status } }`, map[string]any{"id": s.acmeAdmin.OrgID}).OK(t).
		Get("data.organization.status").String(); st != "SUSPENDED" {
		t.Errorf("Suspend: the API says %s", st)
	}
	if code := env.Do(s.acmeAdmin.Token, `{ me { id } }`, nil).Code(); code != "ORGANIZATION_SUSPENDED" {
		t.Errorf("a suspended organization's admin should get ORGANIZATION_SUSPENDED, got %q", code)
	}
	do(t, b,
		chromedp.Click(chromedp.CSS(`[data-platform-action=reactivate-organization]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-platform-action=suspend-organization]`)),
	)
	if st := env.Do(op.Token, `query($id: ID!) { organization(id: $id) { status } }`, map[string]any{"id": s.acmeAdmin.OrgID}).OK(t).
		Get("data.organization.status").String(); st != "ACTIVE" {
		t.Errorf("Reactivate: the API says %s", st)
	}
}

// TestConsoleUsageAndSettings: an org admin's Usage tab (this month's
// report; the CSV downloads through a blob: URL under the page's CSP) and
// Policy & branding tab (both forms reach the API; the brand colour colours
// the card).
func TestConsoleUsageAndSettings(t *testing.T) {
	t.Parallel()
	s := seed(t)
	env, base := s.env, site(t, s.env, nil)
	b := webtest.NewBrowser(t)
	watch(t, b)
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.Ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	signIn(t, b, base, s.acmeAdmin.Email)
	orgURL := base + "/organizations/" + s.acmeAdmin.OrgID

	do(t, b, chromedp.Navigate(orgURL+"/usage"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=usage-report]`)))
	now := time.Now().UTC()
	if got, want := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`document.querySelector('#usage-since').value`)), now.Format("2006-01")+"-01"; got != want {
		t.Errorf("the window should start on the 1st of this month (%s), starts %s", want, got)
	}
	if got := text(b, `[data-testid=report-peakUsers]`); got != "3" {
		t.Errorf("peak users this month should be 3, the page says %q", got)
	}
	b.Axe(b.Ctx, "organization-usage")
	shot(t, b, "organization-usage")
	do(t, b, chromedp.Click(chromedp.CSS(`[data-testid=usage-export]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=usage-export-notice]`)))
	var csv []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(dir, "usage-*.csv"))
		if len(files) == 1 {
			csv, _ = os.ReadFile(files[0])
			if len(csv) > 0 {
				break
			}
		}
	}
	if !strings.HasPrefix(string(csv), "organization_id,workspace_id,workspace_name") || !strings.Contains(string(csv), "CAD workstation") {
		t.Errorf("the downloaded CSV should be the usage export with Acme's workspaces, got %q", csv)
	}

	// Policy & branding.
	do(t, b,
		chromedp.Navigate(orgURL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=branding-form]`)),
		fill(`#policy-ttl`, "120"),
		chromedp.Click(chromedp.CSS(`[data-admin-action=save-policy]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=policy-notice]`)),
		fill(`#branding-name`, "Acme Robotics GmbH"),
		fill(`#branding-color`, "#aa3300"),
		chromedp.Click(chromedp.CSS(`[data-admin-action=save-branding]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=branding-notice]`)),
	)
	r := env.Do(s.acmeAdmin.Token, `query($id: ID!) { organization(id: $id) { securityPolicy { sessionTtlMinutes } branding { displayName primaryColor } } }`,
		map[string]any{"id": s.acmeAdmin.OrgID}).OK(t)
	if r.Get("data.organization.securityPolicy.sessionTtlMinutes").Int() != 120 ||
		r.Get("data.organization.branding.displayName").String() != "Acme Robotics GmbH" ||
		r.Get("data.organization.branding.primaryColor").String() != "#AA3300" {
		t.Errorf("the API should have the saved policy and branding: %s", r.Body)
	}
	// A colour that is not #RRGGBB is not sent: the field says so.
	do(t, b, fill(`#branding-color`, "red"))
	if !webtest.Value(b, b.Ctx, chromedp.Evaluate[bool](`document.querySelector('#branding-color').validity.patternMismatch`)) {
		t.Error("a colour that is not #RRGGBB should not pass the field's check")
	}
	do(t, b, fill(`#branding-color`, "#AA3300"))
	b.Axe(b.Ctx, "organization-settings")
	shot(t, b, "organization-settings")

	do(t, b, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=org-card]`)))
	if got := webtest.Value(b, b.Ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('[data-testid=org-card]')).borderTopColor`)); got != "rgb(170, 51, 0)" {
		t.Errorf("the card should take the brand colour, its border is %s", got)
	}
	if got := text(b, `[data-testid=org-display-name]`); got != "Acme Robotics GmbH" {
		t.Errorf("the card should show the display name, got %q", got)
	}
}
