package server_test

// inviteUser(input: {organizationId}): a platform administrator invites the
// first admin of an organization made with createOrganization, through the
// real handler on SQLite and, with NEOSC_TEST_MYSQL_DSN, MariaDB.

import (
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/testdb"
)

const inviteIntoQ = `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id email role status invitedBy { id } } }`

func inviteInto(email, role, org string) map[string]any {
	in := map[string]any{"email": email, "role": role}
	if org != "" {
		in["organizationId"] = org
	}
	return map[string]any{"in": in}
}

func TestInviteIntoNamedOrganization(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		env := w.env
		op := platformAdmin(t, env)
		r := env.Do(op.Token, createOrgQ, map[string]any{"in": map[string]any{"name": "Hooli", "quota": map[string]any{"maxUsers": 1}}}).OK(t)
		hooli := r.Get("data.createOrganization.id").String()

		t.Run("a platform administrator invites the first admin", func(t *testing.T) {
			r := env.Do(op.Token, inviteIntoQ, inviteInto("first@hooli.test", "ADMIN", hooli)).OK(t)
			inv := r.Get("data.inviteUser.id").String()
			if r.Get("data.inviteUser.role").String() != "ADMIN" || r.Get("data.inviteUser.invitedBy.id").String() != op.UserID {
				t.Errorf("invitation: %s", r.Body)
			}
			if n := env.Count("SELECT COUNT(*) FROM invitations WHERE id = ? AND organization_id = ?", rawID(t, inv), rawID(t, hooli)); n != 1 {
				t.Errorf("invitation not in Hooli: %d", n)
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ? AND action = 'invitation.created' AND target_id = ? AND actor_id = ?",
				rawID(t, hooli), rawID(t, inv), rawID(t, op.UserID)); n != 1 {
				t.Errorf("invitation.created in Hooli's trail with the operator as actor = %d, want 1", n)
			}
			if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ? AND action = 'invitation.created' AND target_id = ?",
				rawID(t, op.OrgID), rawID(t, inv)); n != 0 {
				t.Errorf("invitation.created in the operator's own trail = %d, want 0", n)
			}
			// The token goes through the outbox, as for any invitation.
			r = env.Do("", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token user { role organization { id name } } } }`,
				map[string]any{"in": map[string]any{"token": env.MailedToken("first@hooli.test"), "name": "First", "password": "correct horse battery"}}).OK(t)
			if r.Get("data.acceptInvitation.user.organization.id").String() != hooli || r.Get("data.acceptInvitation.user.role").String() != "ADMIN" {
				t.Fatalf("accepted into: %s", r.Body)
			}
			first := r.Get("data.acceptInvitation.token").String()
			// The new admin runs their organization, and invites as before.
			env.Do(first, inviteIntoQ, inviteInto("second@hooli.test", "MEMBER", "")).OK(t)
			env.Do(first, inviteIntoQ, inviteInto("third@hooli.test", "MEMBER", hooli)).OK(t)
			if n := env.Count("SELECT COUNT(*) FROM invitations WHERE organization_id = ? AND status = 'PENDING'", rawID(t, hooli)); n != 2 {
				t.Errorf("pending invitations in Hooli = %d, want 2", n)
			}
			// The quota holds on acceptance (maxUsers 1, and First is one).
			acceptAs(env, env.MailedToken("second@hooli.test"), "Second").Want(t, "QUOTA_EXCEEDED")
			if n := env.Count("SELECT COUNT(*) FROM users WHERE organization_id = ?", rawID(t, hooli)); n != 1 {
				t.Errorf("Hooli has %d users, want 1", n)
			}
		})

		t.Run("an organization admin naming their own organization invites as before", func(t *testing.T) {
			email := "own-" + ids.New()[24:] + "@acme.test"
			r := env.Do(w.acmeAdmin.Token, inviteIntoQ, inviteInto(email, "MEMBER", w.acmeAdmin.OrgID)).OK(t)
			inv := r.Get("data.inviteUser.id").String()
			if n := env.Count("SELECT COUNT(*) FROM invitations WHERE id = ? AND organization_id = ?", rawID(t, inv), rawID(t, w.acmeAdmin.OrgID)); n != 1 {
				t.Errorf("invitation not in Acme: %d", n)
			}
			if events(t, env, w.acmeAdmin.OrgID, "invitation.created", inv) != 1 {
				t.Error("no invitation.created in Acme's trail")
			}
		})

		t.Run("an organization admin naming another organization: NOT_FOUND, audited", func(t *testing.T) {
			invitations := env.Count("SELECT COUNT(*) FROM invitations")
			email := "intruder-" + ids.New()[24:] + "@example.net"
			w.crossTenant(t, w.acmeAdmin, func(id string) *apitest.Response {
				return env.Do(w.acmeAdmin.Token, inviteIntoQ, inviteInto(email, "ADMIN", id))
			}, w.globexAdmin.OrgID, w.globexAdmin.OrgID, ids.Organization)
			// A freshly made organization with no users is no different.
			env.Do(w.acmeAdmin.Token, inviteIntoQ, inviteInto(email, "ADMIN", hooli)).Want(t, "NOT_FOUND")
			// Neither is an ID of another type, nor an empty one.
			env.Do(w.acmeAdmin.Token, inviteIntoQ, inviteInto(email, "ADMIN", w.globexWS)).Want(t, "NOT_FOUND")
			env.Do(w.acmeAdmin.Token, inviteIntoQ, map[string]any{"in": map[string]any{"email": email, "organizationId": ""}}).Want(t, "NOT_FOUND")
			if n := env.Count("SELECT COUNT(*) FROM invitations"); n != invitations {
				t.Errorf("%d invitations written", n-invitations)
			}
			if n := env.Count("SELECT COUNT(*) FROM mail_outbox WHERE recipient = ?", email); n != 0 {
				t.Errorf("%d mails queued", n)
			}
		})

		t.Run("a member naming their own organization: FORBIDDEN", func(t *testing.T) {
			env.Do(w.acmeMember.Token, inviteIntoQ, inviteInto("m-"+ids.New()[24:]+"@acme.test", "MEMBER", w.acmeAdmin.OrgID)).Want(t, "FORBIDDEN")
		})

		t.Run("the reserved organizations admit no one by invitation", func(t *testing.T) {
			invitations := env.Count("SELECT COUNT(*) FROM invitations")
			env.Do(op.Token, inviteIntoQ, inviteInto("ops2@example.com", "MEMBER", op.OrgID)).Want(t, "FORBIDDEN")
			env.Do(op.Token, inviteIntoQ, inviteInto("ops2@example.com", "MEMBER", "")).Want(t, "FORBIDDEN")
			if n := env.Count("SELECT COUNT(*) FROM invitations"); n != invitations {
				t.Errorf("%d invitations written", n-invitations)
			}
		})

		t.Run("a duplicate pending invitation is still a CONFLICT", func(t *testing.T) {
			email := "dup-" + ids.New()[24:] + "@globex.example"
			env.Do(op.Token, inviteIntoQ, inviteInto(email, "MEMBER", w.globexAdmin.OrgID)).OK(t)
			env.Do(op.Token, inviteIntoQ, inviteInto(email, "MEMBER", w.globexAdmin.OrgID)).Want(t, "CONFLICT")
			env.Do(w.globexAdmin.Token, inviteIntoQ, inviteInto(email, "MEMBER", "")).Want(t, "CONFLICT")
		})
	})
}
