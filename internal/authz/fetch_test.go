package authz_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

// gadget is a node type the service does not have. The test registers it
// the way a new feature registers its type: one registry entry, nothing
// else.
type gadget struct{ w *store.Workspace }

const gadgetType ids.Type = "Gadget"

func (*gadget) NodeType() ids.Type            { return gadgetType }
func (g *gadget) RowID() string               { return g.w.ID }
func (g *gadget) OwnerOrganizationID() string { return g.w.OrganizationID }

func loadGadget(ctx context.Context, s *store.Store, id string, lock bool) (authz.Object, error) {
	w, err := store.Lookup[store.Workspace](ctx, s, id, lock)
	if err != nil {
		return nil, err
	}
	return &gadget{w: w}, nil
}

// renameGadget is a new mutation's service written the normal way: it
// names its target through authz inside its own transaction and holds no
// authorization code of its own (no organization comparison, no denial
// record, no error mapping).
func renameGadget(ctx context.Context, z *authz.Authorizer, st *store.Store, globalID, name string) error {
	return st.Tx(ctx, func(tx *store.Store) error {
		g, err := authz.FetchForUpdate[*gadget](ctx, z, tx, globalID, authz.OrgAdmin)
		if err != nil {
			return err
		}
		g.w.Name = name
		g.w.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
		return tx.Workspaces.Update(ctx, g.w)
	})
}

// TestNewTargetTypeGetsTheGuard: a target type added to the registry, and a
// service that fetches it through the normal path, answer another
// organization's object NOT_FOUND (exactly as a missing one), leave it
// unchanged and record access.denied in both organizations' trails, with
// no authorization code written for the new type.
func TestNewTargetTypeGetsTheGuard(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := store.New(d.DB)
		z := authz.New(nil, st, slog.New(slog.NewTextHandler(io.Discard, nil))) // Fetch needs no schema
		z.Registry[gadgetType] = authz.Kind{Load: loadGadget}

		acme, globex := gen.Organization(t, d, store.Organization{Name: "Acme"}), gen.Organization(t, d, store.Organization{Name: "Globex"})
		acmeAdmin := gen.User(t, d, store.User{OrganizationID: acme.ID, Role: store.RoleAdmin})
		acmeMember := gen.User(t, d, store.User{OrganizationID: acme.ID})
		acmeWS := gen.Workspace(t, d, store.Workspace{OrganizationID: acme.ID})
		globexWS := gen.Workspace(t, d, store.Workspace{OrganizationID: globex.ID})
		as := func(u *store.User, o *store.Organization) context.Context {
			return auth.WithActor(ctx, &auth.Actor{User: *u, Organization: *o})
		}

		foreign := renameGadget(as(acmeAdmin, acme), z, st, ids.Encode(gadgetType, globexWS.ID), "pwned")
		missing := renameGadget(as(acmeAdmin, acme), z, st, ids.Encode(gadgetType, ids.New()), "pwned")
		if apperr.CodeOf(foreign) != apperr.NotFound || foreign.Error() != missing.Error() {
			t.Fatalf("foreign gadget: %v; missing gadget: %v; want the same NOT_FOUND", foreign, missing)
		}
		if w, _ := st.Workspaces.GetByID(ctx, globexWS.ID); w.Name != globexWS.Name {
			t.Errorf("the foreign row changed: %q", w.Name)
		}
		for _, org := range []*store.Organization{acme, globex} {
			rows, _, err := st.AuditEvents.ListByOrganization(ctx, org.ID, store.AuditFilter{Actions: []string{"access.denied"}}, store.Page{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			wantOrg := "" // the caller's copy does not name the target's organization
			if org == globex {
				wantOrg = globex.ID
			}
			if len(rows) != 1 || deref(rows[0].TargetType) != string(gadgetType) || deref(rows[0].TargetID) != globexWS.ID ||
				deref(rows[0].TargetOrganizationID) != wantOrg || deref(rows[0].ActorID) != acmeAdmin.ID {
				t.Errorf("%s's trail: want one access.denied on the gadget by Acme's admin, got %d: %+v", org.Name, len(rows), rows)
			}
		}

		if err := renameGadget(as(acmeMember, acme), z, st, ids.Encode(gadgetType, acmeWS.ID), "x"); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("member on their own organization's gadget: %v, want FORBIDDEN", err)
		}
		if err := renameGadget(as(acmeAdmin, acme), z, st, ids.Encode(ids.Workspace, acmeWS.ID), "x"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a Workspace ID where a Gadget is expected: %v, want NOT_FOUND", err)
		}
		if err := renameGadget(as(acmeAdmin, acme), z, st, ids.Encode(gadgetType, acmeWS.ID), "renamed"); err != nil {
			t.Fatalf("admin on their own gadget: %v", err)
		}
		if w, _ := st.Workspaces.GetByID(ctx, acmeWS.ID); w.Name != "renamed" {
			t.Errorf("own gadget not renamed: %q", w.Name)
		}
	})
}

// TestLoaded: a row already in hand (a field resolver's parent) is
// authorized exactly as a fetched one: another organization's is NOT_FOUND
// and recorded in both trails, too small a role is FORBIDDEN.
func TestLoaded(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := store.New(d.DB)
		z := authz.New(nil, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
		acme, globex := gen.Organization(t, d, store.Organization{}), gen.Organization(t, d, store.Organization{})
		admin := gen.User(t, d, store.User{OrganizationID: acme.ID, Role: store.RoleAdmin})
		member := gen.User(t, d, store.User{OrganizationID: acme.ID})
		as := func(u *store.User) context.Context {
			return auth.WithActor(ctx, &auth.Actor{User: *u, Organization: *acme})
		}
		for _, tc := range []struct {
			name string
			ctx  context.Context
			obj  *store.Organization
			rule authz.Access
			want apperr.Code // "" = allowed
		}{
			{"happy path, member of the organization", as(member), acme, authz.Member, ""},
			{"no access, role too small", as(member), acme, authz.OrgAdmin, apperr.Forbidden},
			{"no access, other organization", as(admin), globex, authz.Member, apperr.NotFound},
			{"no access, anonymous", ctx, acme, authz.Member, apperr.Unauthenticated},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := z.Loaded(tc.ctx, tc.obj, tc.rule)
				if got := apperr.CodeOf(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
					t.Errorf("Loaded = %v, want %q", err, tc.want)
				}
			})
		}
		for _, org := range []*store.Organization{acme, globex} {
			rows, _, err := st.AuditEvents.ListByOrganization(ctx, org.ID, store.AuditFilter{Actions: []string{"access.denied"}}, store.Page{First: 10})
			if err != nil || len(rows) != 1 || deref(rows[0].TargetID) != globex.ID {
				t.Errorf("access.denied in %s's trail: %d rows (%v)", org.Name, len(rows), err)
			}
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
