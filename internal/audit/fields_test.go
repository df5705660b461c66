package audit

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// TestTableClassifiesEveryField fails when a model gains a field the table
// does not classify, or the table names a field the model no longer has.
func TestTableClassifiesEveryField(t *testing.T) {
	for typ, fields := range table {
		t.Run(typ.Name(), func(t *testing.T) {
			has := map[string]bool{}
			for i := range typ.NumField() {
				sf := typ.Field(i)
				if !sf.IsExported() {
					continue
				}
				has[sf.Name] = true
				if _, ok := fields[sf.Name]; !ok {
					t.Errorf("%s.%s is not classified: add it to the table in fields.go (track, ignore or secret)", typ, sf.Name)
				}
			}
			keys := map[string]string{}
			for name, f := range fields {
				if !has[name] {
					t.Errorf("the table classifies %s.%s, which the model no longer has", typ, name)
				}
				if f.action < actionTrack || f.action > actionSecret || f.key == "" {
					t.Errorf("%s.%s: incomplete classification %+v", typ, name, f)
				}
				if other, dup := keys[f.key]; dup {
					t.Errorf("%s.%s and %s.%s share the key %q", typ, name, typ, other, f.key)
				}
				keys[f.key] = name
			}
		})
	}
}

// TestTableMatchesAuditable fails when the Auditable constraint and the
// table disagree on which models are audited (the constraint's type set is
// read from the source: it cannot be listed at run time).
func TestTableMatchesAuditable(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "fields.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	inSet := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.TypeSpec)
		if !ok || spec.Name.Name != "Auditable" {
			return true
		}
		for _, elem := range spec.Type.(*ast.InterfaceType).Methods.List {
			for _, term := range unionTerms(elem.Type) {
				inSet[types.ExprString(term)] = true
			}
		}
		return false
	})
	if len(inSet) == 0 {
		t.Fatal("no Auditable union found in fields.go")
	}
	inTable := map[string]bool{}
	for typ := range table {
		inTable[typ.String()] = true
		if !inSet[typ.String()] {
			t.Errorf("the table classifies %s, which Auditable does not list", typ)
		}
	}
	for name := range inSet {
		if !inTable[name] {
			t.Errorf("Auditable lists %s, which the table does not classify", name)
		}
	}
}

func unionTerms(e ast.Expr) []ast.Expr {
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == token.OR {
		return append(unionTerms(b.X), unionTerms(b.Y)...)
	}
	return []ast.Expr{e}
}

// TestWorkspaceMetadata pins the metadata of workspace events to what
// internal/workspaces wrote before the table existed: the same keys and the
// same JSON values (the API tests read e.g. changes.cpuCores.from).
func TestWorkspaceMetadata(t *testing.T) {
	url, img := "https://dev.example.com", "registry.example.com/dev:1"
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ws := func() *store.Workspace {
		return &store.Workspace{
			ID: ids.New(), OrganizationID: ids.New(), Name: "acme-dev", Description: "desc",
			Type: store.WorkspaceDev, ConnectionType: store.ConnectionWeb, Status: store.WorkspaceAvailable,
			URL: &url, CPUCores: 2, MemoryMB: 4096, StorageGB: 20, CreatedAt: now, UpdatedAt: now,
		}
	}

	t.Run("happy path, snapshot", func(t *testing.T) {
		want := map[string]any{
			"name": "acme-dev", "description": "desc", "type": "DEV", "connectionType": "WEB", "status": "AVAILABLE",
			"imageUrl": nil, "url": url, "cpuCores": 2, "memoryMb": 4096, "storageGb": 20,
		}
		same(t, Snapshot(ws()), want)
	})

	for _, tc := range []struct {
		name   string
		change func(w *store.Workspace)
		want   map[string]any
	}{
		{"happy path, nothing changed", func(w *store.Workspace) {}, map[string]any{}},
		{"happy path, only ignored fields changed", func(w *store.Workspace) {
			w.ID, w.OrganizationID, w.UpdatedAt = ids.New(), ids.New(), now.Add(time.Hour)
		}, map[string]any{}},
		{"happy path, fields changed", func(w *store.Workspace) {
			w.Name, w.Status, w.CPUCores, w.ImageURL, w.URL = "renamed", store.WorkspaceRunning, 4, &img, nil
		}, map[string]any{
			"name":     map[string]any{"from": "acme-dev", "to": "renamed"},
			"status":   map[string]any{"from": "AVAILABLE", "to": "RUNNING"},
			"cpuCores": map[string]any{"from": 2, "to": 4},
			"imageUrl": map[string]any{"from": nil, "to": img},
			"url":      map[string]any{"from": url, "to": nil},
		}},
	} {
		t.Run(tc.name+", diff", func(t *testing.T) {
			w := ws()
			before := *w
			tc.change(w)
			got := Diff(&before, w)
			same(t, got, tc.want)
			if _, ok := tc.want["cpuCores"]; ok {
				b, _ := json.Marshal(map[string]any{"changes": got})
				if !strings.Contains(string(b), `"cpuCores":{"from":2,"to":4}`) {
					t.Errorf("changes JSON: %s", b)
				}
			}
		})
	}
}

// TestValues covers the value rules on the other models.
func TestValues(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	org, ws := ids.New(), ids.New()

	t.Run("happy path, API token: scopes as strings, times in UTC", func(t *testing.T) {
		tok := &store.APIToken{ID: ids.New(), Name: "deployer", ExpiresAt: exp,
			Scopes: store.ScopeList{store.ScopeReadWorkspaces, store.ScopeReadAudit}}
		same(t, Snapshot(tok), map[string]any{
			"name": "deployer", "scopes": []string{"READ_WORKSPACES", "READ_AUDIT"},
			"expiresAt": "2030-01-02T02:04:05Z", "revokedAt": nil,
		})
		same(t, Snapshot(&store.APIToken{})["scopes"], []string{})
	})
	t.Run("happy path, grant: related objects by global ID", func(t *testing.T) {
		g := &store.WorkspaceGrant{ID: ids.New(), OrganizationID: ids.New(), WorkspaceID: ws, GranteeOrganizationID: org, ExpiresAt: exp,
			Status: store.GrantPending}
		same(t, Snapshot(g), map[string]any{"status": "PENDING",
			"workspaceId": ids.Encode(ids.Workspace, ws), "granteeOrganizationId": ids.Encode(ids.Organization, org),
			"expiresAt": "2030-01-02T02:04:05Z",
		})
	})
	t.Run("happy path, nil model and empty ID", func(t *testing.T) {
		if got := Snapshot[store.Workspace](nil); got != nil {
			t.Errorf("Snapshot(nil) = %v", got)
		}
		same(t, Diff(nil, &store.Organization{Name: "acme"}), map[string]any{"name": map[string]any{"from": "", "to": "acme"}})
		same(t, Snapshot(&store.WorkspaceGrant{})["workspaceId"], nil)
	})
}

// TestSecrets checks that a secret never reaches metadata, and that a diff
// still says it changed.
func TestSecrets(t *testing.T) {
	hash, other := "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$b3RoZXI"
	u := &store.User{ID: ids.New(), Email: "ada@acme.test", Name: "Ada", PasswordHash: &hash, Role: store.RoleAdmin}

	snap := Snapshot(u)
	if _, ok := snap["password"]; ok {
		t.Errorf("snapshot holds the password key: %v", snap)
	}
	notIn(t, snap, hash)

	changed := *u
	changed.PasswordHash = &other
	same(t, Diff(u, &changed), map[string]any{"password": map[string]any{"changed": true}})
	notIn(t, Diff(u, &changed), hash, other)
	same(t, Diff(u, &store.User{ID: u.ID, Email: u.Email, Name: u.Name, PasswordHash: &hash, Role: u.Role}), map[string]any{})

	// Every model, every field filled: no secret value in a snapshot or a
	// diff, and every tracked value a plain JSON value.
	for typ, fields := range table {
		t.Run(typ.Name(), func(t *testing.T) {
			zero, v := reflect.New(typ).Elem(), reflect.New(typ).Elem()
			fill(v)
			snap, changes := snapshot(v), diff(zero, v)
			for name, f := range fields {
				switch f.action {
				case actionTrack:
					switch snap[f.key].(type) {
					case string, int, bool, []string:
					default:
						t.Errorf("%s.%s: snapshot value %T is not a plain JSON value", typ, name, snap[f.key])
					}
				case actionSecret:
					notIn(t, snap, "v-"+name)
					notIn(t, changes, "v-"+name)
					same(t, changes[f.key], map[string]any{"changed": true})
				case actionIgnore:
					if _, ok := snap[f.key]; ok {
						t.Errorf("%s.%s is ignored but in the snapshot", typ, name)
					}
				}
			}
			if d := diff(v, v); len(d) != 0 {
				t.Errorf("diff of a model with itself: %v", d)
			}
		})
	}
}

// fill sets every field of the struct v to a non-zero value; strings read
// "v-<field name>".
func fill(v reflect.Value) {
	for i := range v.NumField() {
		fillValue(v.Field(i), "v-"+v.Type().Field(i).Name)
	}
}

func fillValue(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(v.Elem(), s)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fillValue(v.Index(0), s)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)))
		}
	}
}

func same(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("JSON differs:\ngot  %s\nwant %s", g, w)
	}
}

func notIn(t *testing.T, v any, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("a secret leaked: %s", b)
		}
	}
}
