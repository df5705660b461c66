package server_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/dnstest"
	"github.com/neosc/neosc/internal/testdb"
)

const (
	domainFields = `domain verified verifiedAt enrollment verificationRecord { name value } createdAt`
	addDomain    = `mutation($d: String!) { addOrganizationDomain(domain: $d) { ` + domainFields + ` } }`
	verifyDomain = `mutation($d: String!) { verifyOrganizationDomain(domain: $d) { ` + domainFields + ` } }`
	setEnroll    = `mutation($d: String!, $e: DomainEnrollment!) { setDomainEnrollment(domain: $d, enrollment: $e) { ` + domainFields + ` } }`
	removeDomain = `mutation($d: String!) { removeOrganizationDomain(domain: $d) }`
	listDomains  = `query($id: ID!) { organization(id: $id) { domains { ` + domainFields + ` } } }`
)

// domainWorld is a world whose service sends its DNS lookups to a DNS
// server of the test's own, on loopback.
type domainWorld struct {
	*world
	dns *dnstest.Server
}

func newDomainWorld(t *testing.T, d *db.DB) *domainWorld {
	t.Helper()
	srv := dnstest.New(t)
	return &domainWorld{world: newWorldIn(t, apitest.New(t, d, apitest.WithDNSResolver(srv.Addr()))), dns: srv}
}

func dvar(domain string) map[string]any { return map[string]any{"d": domain} }

// add adds domain as acc and answers its verification record.
func (w *domainWorld) add(t *testing.T, acc apitest.Account, domain string) (name, value string) {
	t.Helper()
	r := w.env.Do(acc.Token, addDomain, dvar(domain)).OK(t)
	return r.Get("data.addOrganizationDomain.verificationRecord.name").String(),
		r.Get("data.addOrganizationDomain.verificationRecord.value").String()
}

// publish adds acc's verification record for domain to the DNS, next to
// those already there.
func (w *domainWorld) publish(t *testing.T, acc apitest.Account, domain string, others ...string) {
	t.Helper()
	w.dns.SetTXT("_neosc-challenge."+domain, append(others, w.recordValue(t, acc, domain))...)
}

// domainEvents counts the events of action about domain in org's trail.
func (w *domainWorld) domainEvents(t *testing.T, org, action, domain string) int {
	t.Helper()
	return w.env.Count(`SELECT COUNT(*) FROM audit_events WHERE organization_id = ? AND action = ?
		AND target_type = 'OrganizationDomain' AND metadata LIKE ?`, rawID(t, org), action, `%"`+domain+`"%`)
}

func (w *domainWorld) domainRow(t *testing.T, domain string) string {
	t.Helper()
	var rows []map[string]any
	w.env.DB.Raw("SELECT * FROM organization_domains WHERE domain = ? ORDER BY id", domain).Scan(&rows)
	return apitest.Sprintf("%v", rows)
}

func TestOrganizationDomains(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newDomainWorld(t, d)
		env, admin, member, globex := w.env, w.acmeAdmin, w.acmeMember, w.globexAdmin

		t.Run("happy path, add: normalised, unverified, the record shown to admins", func(t *testing.T) {
			r := env.Do(admin.Token, addDomain, dvar("  Acme-Corp.Example.COM. ")).OK(t)
			got := r.Get("data.addOrganizationDomain")
			if got.Get("domain").String() != "acme-corp.example.com" || got.Get("verified").Bool() || got.Get("verifiedAt").Exists() && got.Get("verifiedAt").Type != 0 ||
				got.Get("enrollment").String() != "INVITATION_ONLY" || got.Get("createdAt").String() == "" {
				t.Errorf("added: %s", r.Body)
			}
			if got.Get("verificationRecord.name").String() != "_neosc-challenge.acme-corp.example.com" ||
				!strings.HasPrefix(got.Get("verificationRecord.value").String(), "neosc-verification=") ||
				len(got.Get("verificationRecord.value").String()) < len("neosc-verification=")+20 {
				t.Errorf("verification record: %s", got.Get("verificationRecord").Raw)
			}
			if n := w.domainEvents(t, admin.OrgID, "domain.added", "acme-corp.example.com"); n != 1 {
				t.Errorf("domain.added events = %d", n)
			}
			env.Do(admin.Token, addDomain, dvar("acme-corp.example.com")).Want(t, "CONFLICT")
			l := env.Do(admin.Token, listDomains, map[string]any{"id": admin.OrgID}).OK(t)
			if l.Get("data.organization.domains.#").Int() != 1 || l.Get("data.organization.domains.0.verificationRecord.value").String() != got.Get("verificationRecord.value").String() {
				t.Errorf("listing: %s", l.Body)
			}
		})

		t.Run("happy path, members list the domains but not the record", func(t *testing.T) {
			r := env.Do(member.Token, `query($id: ID!) { organization(id: $id) { domains { domain verified enrollment createdAt } } }`,
				map[string]any{"id": admin.OrgID}).OK(t)
			if r.Get("data.organization.domains.0.domain").String() != "acme-corp.example.com" {
				t.Errorf("member's listing: %s", r.Body)
			}
			r = env.Do(member.Token, listDomains, map[string]any{"id": admin.OrgID}).Want(t, "FORBIDDEN")
			if r.Get("errors.0.path").String() != `["organization","domains",0,"verificationRecord"]` ||
				r.Get("data.organization.domains.0.verificationRecord").Type != 0 || strings.Contains(string(r.Body), "neosc-verification=") {
				t.Errorf("member sees the record: %s", r.Body)
			}
		})

		t.Run("verify fails without the TXT record, and changes nothing", func(t *testing.T) {
			before := w.domainRow(t, "acme-corp.example.com")
			r := env.Do(admin.Token, verifyDomain, dvar("acme-corp.example.com")).Want(t, "BAD_USER_INPUT")
			if !strings.Contains(r.Message(), "TXT record _neosc-challenge.acme-corp.example.com not found") ||
				r.Get("errors.0.extensions.field").String() != "domain" {
				t.Errorf("no record: %s", r.Body)
			}
			w.dns.SetTXT("_neosc-challenge.acme-corp.example.com", "v=spf1 -all", "neosc-verification=someone-elses")
			r = env.Do(admin.Token, verifyDomain, dvar("acme-corp.example.com")).Want(t, "BAD_USER_INPUT")
			if !strings.Contains(r.Message(), "no TXT record at _neosc-challenge.acme-corp.example.com holds") {
				t.Errorf("wrong record: %s", r.Body)
			}
			w.dns.Fail("_neosc-challenge.acme-corp.example.com", dns.RcodeServerFailure)
			r = env.Do(admin.Token, verifyDomain, dvar("acme-corp.example.com")).Want(t, "BAD_USER_INPUT")
			if !strings.Contains(r.Message(), "got no answer") || strings.Contains(r.Message(), "127.0.0.1") {
				t.Errorf("SERVFAIL: %s", r.Body)
			}
			if after := w.domainRow(t, "acme-corp.example.com"); after != before {
				t.Errorf("a failed verification changed the row:\n%s\n%s", before, after)
			}
			if n := w.domainEvents(t, admin.OrgID, "domain.verified", "acme-corp.example.com"); n != 0 {
				t.Errorf("domain.verified events = %d", n)
			}
		})

		t.Run("happy path, verify succeeds once the record is published", func(t *testing.T) {
			w.publish(t, admin, "acme-corp.example.com", "v=spf1 -all")
			r := env.Do(admin.Token, verifyDomain, dvar("ACME-CORP.example.com")).OK(t)
			got := r.Get("data.verifyOrganizationDomain")
			if !got.Get("verified").Bool() || got.Get("verifiedAt").String() == "" || got.Get("verificationRecord").Type != 0 {
				t.Errorf("verified: %s", r.Body)
			}
			env.Do(admin.Token, verifyDomain, dvar("acme-corp.example.com")).OK(t) // again: unchanged
			if n := w.domainEvents(t, admin.OrgID, "domain.verified", "acme-corp.example.com"); n != 1 {
				t.Errorf("domain.verified events = %d, want 1", n)
			}
		})

		t.Run("conflict, a domain verified elsewhere cannot be added or verified", func(t *testing.T) {
			r := env.Do(globex.Token, addDomain, dvar("acme-corp.example.com")).Want(t, "CONFLICT")
			if r.Get("errors.0.extensions.field").String() != "domain" || !strings.Contains(r.Message(), "verified by another organization") {
				t.Errorf("add: %s", r.Body)
			}
		})

		t.Run("conflict, the first organization to verify wins", func(t *testing.T) {
			const shared = "shared.example.com"
			w.add(t, admin, shared)
			w.add(t, globex, shared) // unverified domains block nobody
			w.publish(t, admin, shared)
			env.Do(admin.Token, verifyDomain, dvar(shared)).OK(t)
			w.publish(t, globex, shared)
			before := w.domainRow(t, shared)
			env.Do(globex.Token, verifyDomain, dvar(shared)).Want(t, "CONFLICT")
			if w.domainRow(t, shared) != before {
				t.Error("the refused verification changed a row")
			}
			// Given up, the domain is free to verify again.
			if r := env.Do(admin.Token, removeDomain, dvar(shared)).OK(t); r.Get("data.removeOrganizationDomain").String() != shared {
				t.Errorf("remove: %s", r.Body)
			}
			env.Do(globex.Token, verifyDomain, dvar(shared)).OK(t)
			env.Do(admin.Token, addDomain, dvar(shared)).Want(t, "CONFLICT")
		})

		t.Run("conflict, concurrent verifications: exactly one wins", func(t *testing.T) {
			const race = "race.example.com"
			w.add(t, admin, race)
			w.add(t, globex, race)
			w.publish(t, admin, race)
			w.publish(t, globex, race, w.recordValue(t, admin, race))
			codes := make([]string, 2)
			var wg sync.WaitGroup
			for i, acc := range []apitest.Account{admin, globex} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = env.Do(acc.Token, verifyDomain, dvar(race)).Code()
				}()
			}
			wg.Wait()
			if !(codes[0] == "" && codes[1] == "CONFLICT" || codes[0] == "CONFLICT" && codes[1] == "") {
				t.Errorf("outcomes %q, want one success and one CONFLICT", codes)
			}
			if n := env.Count("SELECT COUNT(*) FROM organization_domains WHERE verified_domain = ?", race); n != 1 {
				t.Errorf("%d rows verified", n)
			}
		})

		t.Run("bad input, public and disposable mail domains are refused", func(t *testing.T) {
			for _, domain := range []string{"gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "GMAIL.COM", "mail.yahoo.com", "mailinator.com"} {
				r := env.Do(admin.Token, addDomain, dvar(domain)).Want(t, "BAD_USER_INPUT")
				if r.Get("errors.0.extensions.field").String() != "domain" || !strings.Contains(r.Message(), "public or disposable mail domain") {
					t.Errorf("%s: %s", domain, r.Body)
				}
			}
		})

		t.Run("bad input, names that are not registrable domains", func(t *testing.T) {
			for _, domain := range []string{"", "not a domain", "localhost", "acme.test", "co.uk", "github.io", "-acme.com", "acme..com", "*.acme.com", "https://acme.com", "1.2.3.4", strings.Repeat("a", 300)} {
				r := env.Do(admin.Token, addDomain, dvar(domain)).Want(t, "BAD_USER_INPUT")
				if r.Get("errors.0.extensions.field").String() != "domain" {
					t.Errorf("%q: %s", domain, r.Body)
				}
			}
			env.Do(admin.Token, setEnroll, map[string]any{"d": "acme-corp.example.com", "e": "EVERYONE"}).Want(t, "BAD_USER_INPUT")
			for _, q := range []string{verifyDomain, removeDomain} {
				r := env.Do(admin.Token, q, dvar("never-added.example.com")).Want(t, "NOT_FOUND")
				if r.Get("errors.0.extensions.field").String() != "domain" {
					t.Errorf("not added: %s", r.Body)
				}
			}
		})

		t.Run("happy path, enrollment: AUTO_JOIN needs a verified domain; changes audited", func(t *testing.T) {
			w.add(t, admin, "pending.example.com")
			r := env.Do(admin.Token, setEnroll, map[string]any{"d": "pending.example.com", "e": "AUTO_JOIN"}).Want(t, "BAD_USER_INPUT")
			if r.Get("errors.0.extensions.field").String() != "enrollment" {
				t.Errorf("unverified AUTO_JOIN: %s", r.Body)
			}
			r = env.Do(admin.Token, setEnroll, map[string]any{"d": "acme-corp.example.com", "e": "AUTO_JOIN"}).OK(t)
			if r.Get("data.setDomainEnrollment.enrollment").String() != "AUTO_JOIN" {
				t.Errorf("set: %s", r.Body)
			}
			env.Do(admin.Token, setEnroll, map[string]any{"d": "acme-corp.example.com", "e": "AUTO_JOIN"}).OK(t) // unchanged: no event
			if n := w.domainEvents(t, admin.OrgID, "domain.enrollment_changed", "acme-corp.example.com"); n != 1 {
				t.Errorf("domain.enrollment_changed events = %d, want 1", n)
			}
			ev := env.Do(admin.Token, `query($id: ID!) { organization(id: $id) { auditEvents(first: 1, filter: {actions: ["domain.enrollment_changed"]}) {
				nodes { actorId targetType targetOrganizationId metadata } } } }`, map[string]any{"id": admin.OrgID}).OK(t)
			e := ev.Get("data.organization.auditEvents.nodes.0")
			if e.Get("actorId").String() != admin.UserID || e.Get("targetType").String() != "OrganizationDomain" ||
				e.Get("targetOrganizationId").String() != admin.OrgID || e.Get("metadata.domain").String() != "acme-corp.example.com" ||
				e.Get("metadata.changes.enrollment.from").String() != "INVITATION_ONLY" || e.Get("metadata.changes.enrollment.to").String() != "AUTO_JOIN" {
				t.Errorf("event: %s", ev.Body)
			}
			if strings.Contains(string(ev.Body), "neosc-verification") {
				t.Errorf("the verification token is in the trail: %s", ev.Body)
			}
		})

		t.Run("happy path, removal audited", func(t *testing.T) {
			r := env.Do(admin.Token, removeDomain, dvar("Pending.Example.com")).OK(t)
			if r.Get("data.removeOrganizationDomain").String() != "pending.example.com" {
				t.Errorf("remove: %s", r.Body)
			}
			if n := w.domainEvents(t, admin.OrgID, "domain.removed", "pending.example.com"); n != 1 {
				t.Errorf("domain.removed events = %d", n)
			}
			env.Do(admin.Token, removeDomain, dvar("pending.example.com")).Want(t, "NOT_FOUND")
			l := env.Do(admin.Token, listDomains, map[string]any{"id": admin.OrgID}).OK(t)
			if strings.Contains(string(l.Body), "pending.example.com") {
				t.Errorf("still listed: %s", l.Body)
			}
		})

		t.Run("no access, members get FORBIDDEN and change nothing", func(t *testing.T) {
			before := w.domainRow(t, "acme-corp.example.com")
			events := env.Count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'domain.%'")
			env.Do(member.Token, addDomain, dvar("member.example.com")).Want(t, "FORBIDDEN")
			env.Do(member.Token, verifyDomain, dvar("acme-corp.example.com")).Want(t, "FORBIDDEN")
			env.Do(member.Token, setEnroll, map[string]any{"d": "acme-corp.example.com", "e": "INVITATION_ONLY"}).Want(t, "FORBIDDEN")
			env.Do(member.Token, removeDomain, dvar("acme-corp.example.com")).Want(t, "FORBIDDEN")
			if w.domainRow(t, "acme-corp.example.com") != before || env.Count("SELECT COUNT(*) FROM organization_domains WHERE domain = 'member.example.com'") != 0 ||
				env.Count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'domain.%'") != events {
				t.Error("a member's attempt changed something")
			}
			env.Do("", addDomain, dvar("anon.example.com")).Want(t, "UNAUTHENTICATED")
		})

		t.Run("happy path, register's answer lists the new organization's domains as its registrant", func(t *testing.T) {
			r := env.Do("", `mutation($in: RegisterInput!) { register(input: $in) { user { organization { domains { domain } } } } }`,
				map[string]any{"in": map[string]any{"email": "founder@fresh.test", "password": "long-enough", "name": "F", "organization": "Fresh"}}).OK(t)
			if !r.Get("data.register.user.organization.domains").IsArray() {
				t.Errorf("register: %s", r.Body)
			}
		})

		t.Run("no access, API tokens reach no domain field", func(t *testing.T) {
			secret, _ := newToken(t, env, admin, "domains", "READ_ORGANIZATION", "READ_WORKSPACES", "WRITE_WORKSPACES", "READ_AUDIT")
			env.Do(secret, `query($id: ID!) { organization(id: $id) { domains { domain } } }`, map[string]any{"id": admin.OrgID}).Want(t, "FORBIDDEN")
			env.Do(secret, addDomain, dvar("token.example.com")).Want(t, "FORBIDDEN")
			env.Do(secret, removeDomain, dvar("acme-corp.example.com")).Want(t, "FORBIDDEN")
		})
	})
}

// recordValue is acc's verification value for domain.
func (w *domainWorld) recordValue(t *testing.T, acc apitest.Account, domain string) string {
	t.Helper()
	r := w.env.Do(acc.Token, listDomains, map[string]any{"id": acc.OrgID}).OK(t)
	for _, d := range r.Get("data.organization.domains").Array() {
		if d.Get("domain").String() == domain {
			return d.Get("verificationRecord.value").String()
		}
	}
	t.Fatalf("%s has no domain %s", acc.Email, domain)
	return ""
}

// TestDomainChangeAndEventAreOneTransaction: when the audit event cannot be
// written, the domain change is rolled back with it.
func TestDomainChangeAndEventAreOneTransaction(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newDomainWorld(t, d)
		env, admin := w.env, w.acmeAdmin
		auditFails := failInserts(t, d, "audit_events")
		w.add(t, admin, "tx.example.com")
		w.publish(t, admin, "tx.example.com")
		for _, step := range []struct {
			name, query string
			vars        map[string]any
		}{
			{"add", addDomain, dvar("tx-new.example.com")},
			{"verify", verifyDomain, dvar("tx.example.com")},
			{"remove", removeDomain, dvar("tx.example.com")},
		} {
			t.Run("event write fails: "+step.name+" rolled back", func(t *testing.T) {
				rows := w.domainRow(t, "tx.example.com") + w.domainRow(t, "tx-new.example.com")
				auditFails.Store(true)
				r := env.Do(admin.Token, step.query, step.vars)
				auditFails.Store(false)
				wantMaskedInternal(t, env, r)
				if after := w.domainRow(t, "tx.example.com") + w.domainRow(t, "tx-new.example.com"); after != rows {
					t.Errorf("changed without its event:\n%s\n%s", rows, after)
				}
			})
		}
		env.Do(admin.Token, verifyDomain, dvar("tx.example.com")).OK(t)
		t.Run("event write fails: enrollment change rolled back", func(t *testing.T) {
			before := w.domainRow(t, "tx.example.com")
			auditFails.Store(true)
			r := env.Do(admin.Token, setEnroll, map[string]any{"d": "tx.example.com", "e": "AUTO_JOIN"})
			auditFails.Store(false)
			wantMaskedInternal(t, env, r)
			if w.domainRow(t, "tx.example.com") != before {
				t.Error("enrollment changed without its event")
			}
		})
	})
}
