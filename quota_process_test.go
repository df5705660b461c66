package main

// Quotas hold across replicas (issue 11): two real `neosc serve`
// processes on one MariaDB (one process on SQLite, whose writers a file
// serializes anyway) take concurrent additions against one organization's
// quota, and exactly the quota's worth is admitted: every other request is
// QUOTA_EXCEEDED, nothing of it written, and the usage counters equal the
// rows.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/mailtest"
	"github.com/neosc/neosc/internal/testdb"
)

// raceClient sends GraphQL requests to the servers in turn, retrying what
// the contract calls retryable (RATE_LIMITED, UNAVAILABLE) as a client
// would.
type raceClient struct {
	t     *testing.T
	http  *http.Client
	bases []string
}

func (c *raceClient) do(i int, token, query string, vars map[string]any) answer {
	for attempt := 0; ; attempt++ {
		a, err := post(c.http, c.bases[i%len(c.bases)]+"/graphql", token, query, vars)
		if err != nil {
			c.t.Errorf("request %d: %v", i, err)
			return a
		}
		if (a.code != "RATE_LIMITED" && a.code != "UNAVAILABLE") || attempt == 20 {
			return a
		}
		time.Sleep(time.Duration(50+attempt*50) * time.Millisecond)
	}
}

// race runs n requests at once and counts their answers by code ("" for
// success).
func (c *raceClient) race(n int, req func(i int) (token, query string, vars map[string]any)) map[string]int {
	var (
		mu    sync.Mutex
		codes = map[string]int{}
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token, q, vars := req(i)
			<-start
			a := c.do(i, token, q, vars)
			mu.Lock()
			codes[a.code]++
			mu.Unlock()
			if a.code != "" && a.code != "QUOTA_EXCEEDED" {
				c.t.Errorf("request %d: %s", i, a.body)
			}
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

func (c *raceClient) ok(i int, token, query string, vars map[string]any) json.RawMessage {
	c.t.Helper()
	a := c.do(i, token, query, vars)
	if a.code != "" {
		c.t.Fatalf("%s: %s", strings.Fields(query)[0], a.body)
	}
	var out struct{ Data json.RawMessage }
	_ = json.Unmarshal(a.body, &out)
	return out.Data
}

func TestQuotasHoldAcrossServers(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			const n, room = 50, 10
			dbURL := testdb.URL(t, e)
			smtp := mailtest.Start(t)
			env := []string{"NEOSC_DATABASE_URL=" + dbURL, "NEOSC_SIGNING_KEY_FILE=" + t.TempDir() + "/shared-key.jwk",
				"NEOSC_SMTP_URL=" + smtp.URL(), "NEOSC_PUBLIC_URL=http://neosc.test",
				// The race is about quotas, not budgets: one test client
				// sends everything from one address.
				"NEOSC_RATE_LIMIT_ANONYMOUS=100000/1m", "NEOSC_RATE_LIMIT_TOKEN=100000/1h", "NEOSC_RATE_LIMIT_ORGANIZATION=100000/1h"}
			a := startServer(t, "server A", env...)
			c := &raceClient{t: t, http: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}},
				bases: []string{"http://" + a.addr(t)}} // A migrates and creates the key first
			servers := []*serverProcess{a}
			if e == db.MySQL {
				b := startServer(t, "server B", env...)
				c.bases = append(c.bases, "http://"+b.addr(t))
				servers = append(servers, b)
			}
			d := openDB(t, dbURL)
			count := func(q string, args ...any) int {
				t.Helper()
				var v int64
				if err := d.Raw(q, args...).Scan(&v).Error; err != nil {
					t.Fatal(err)
				}
				return int(v)
			}

			var reg struct {
				Register struct {
					Token string
					User  struct{ Organization struct{ ID string } }
				}
			}
			register := `mutation($in: RegisterInput!) { register(input: $in) { token user { organization { id } } } }`
			_ = json.Unmarshal(c.ok(0, "", register, map[string]any{"in": map[string]any{"email": "admin@race.test", "password": "a long enough password",
				"name": "Admin", "organization": "Race"}}), &reg)
			admin, orgID := reg.Register.Token, reg.Register.User.Organization.ID
			_ = json.Unmarshal(c.ok(1, "", register, map[string]any{"in": map[string]any{"email": "operator@ops.test", "password": "a long enough password",
				"name": "Operator"}}), &reg)
			operator := reg.Register.Token
			if err := d.Exec("UPDATE users SET platform_admin = TRUE WHERE email = 'operator@ops.test'").Error; err != nil {
				t.Fatal(err)
			}
			var raw string
			if err := d.Raw("SELECT id FROM organizations WHERE name = 'Race'").Scan(&raw).Error; err != nil {
				t.Fatal(err)
			}
			setQuota := func(in map[string]any) {
				t.Helper()
				c.ok(1, operator, `mutation($id: ID!, $in: QuotaInput!) { setOrganizationQuota(id: $id, input: $in) { id } }`,
					map[string]any{"id": orgID, "in": in})
			}
			exact := func() {
				t.Helper()
				var o struct{ UserCount, WorkspaceCount, CPUCores, MemoryMB, StorageGB int }
				d.Raw("SELECT user_count, workspace_count, cpu_cores, memory_mb, storage_gb FROM organizations WHERE id = ?", raw).Scan(&o)
				rows := [5]int{count("SELECT COUNT(*) FROM users WHERE organization_id = ?", raw),
					count("SELECT COUNT(*) FROM workspaces WHERE organization_id = ?", raw),
					count("SELECT COALESCE(SUM(cpu_cores), 0) FROM workspaces WHERE organization_id = ?", raw),
					count("SELECT COALESCE(SUM(memory_mb), 0) FROM workspaces WHERE organization_id = ?", raw),
					count("SELECT COALESCE(SUM(storage_gb), 0) FROM workspaces WHERE organization_id = ?", raw)}
				if got := [5]int{o.UserCount, o.WorkspaceCount, o.CPUCores, o.MemoryMB, o.StorageGB}; got != rows {
					t.Errorf("usage counters %v, the rows say %v", got, rows)
				}
			}
			exceededEvents := func() int {
				return count("SELECT COUNT(*) FROM audit_events WHERE organization_id = ? AND action = 'quota.exceeded' AND outcome = 'DENIED'", raw)
			}

			t.Run("createWorkspace", func(t *testing.T) {
				setQuota(map[string]any{"maxWorkspaces": room})
				codes := c.race(n, func(i int) (string, string, map[string]any) {
					return admin, `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { id } }`,
						map[string]any{"in": map[string]any{"name": fmt.Sprintf("ws-%02d", i), "type": "DEV", "connectionType": "WEB",
							"cpuCores": 1, "memoryMb": 512, "storageGb": 5}}
				})
				if codes[""] != room || codes["QUOTA_EXCEEDED"] != n-room {
					t.Errorf("answers %v, want %d created and %d QUOTA_EXCEEDED", codes, room, n-room)
				}
				if got := count("SELECT COUNT(*) FROM workspaces WHERE organization_id = ?", raw); got != room {
					t.Errorf("%d workspaces, want %d", got, room)
				}
				exact()
				if got := exceededEvents(); got != n-room {
					t.Errorf("%d quota.exceeded events, want %d", got, n-room)
				}
			})

			t.Run("updateWorkspace raising cpuCores", func(t *testing.T) {
				// Ten workspaces of 1 core; room for 10 more cores. Every
				// workspace is raised to 3 by five requests at once: five
				// workspaces can be (2 cores more each), five cannot.
				before := exceededEvents()
				setQuota(map[string]any{"maxCpuCores": 2 * room})
				var wsIDs []string
				rows, err := d.Raw("SELECT id FROM workspaces WHERE organization_id = ? ORDER BY id", raw).Rows()
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id string
					_ = rows.Scan(&id)
					wsIDs = append(wsIDs, ids.Encode(ids.Workspace, id))
				}
				_ = rows.Close()
				codes := c.race(n, func(i int) (string, string, map[string]any) {
					return admin, `mutation($id: ID!, $in: UpdateWorkspaceInput!) { updateWorkspace(id: $id, input: $in) { id } }`,
						map[string]any{"id": wsIDs[i%len(wsIDs)], "in": map[string]any{"cpuCores": 3}}
				})
				raised := count("SELECT COUNT(*) FROM workspaces WHERE organization_id = ? AND cpu_cores = 3", raw)
				if raised != room/2 || count("SELECT SUM(cpu_cores) FROM workspaces WHERE organization_id = ?", raw) != 2*room {
					t.Errorf("%d workspaces raised, want %d; answers %v", raised, room/2, codes)
				}
				// Each raised workspace: one request raised it, four found it
				// raised already (no change, no quota); each of the others:
				// five refusals.
				if codes[""] != 5*raised || codes["QUOTA_EXCEEDED"] != 5*(room-raised) {
					t.Errorf("answers %v", codes)
				}
				exact()
				if got := exceededEvents() - before; got != codes["QUOTA_EXCEEDED"] {
					t.Errorf("%d quota.exceeded events for %d refusals", got, codes["QUOTA_EXCEEDED"])
				}
			})

			t.Run("acceptInvitation", func(t *testing.T) {
				before := exceededEvents()
				users := count("SELECT COUNT(*) FROM users WHERE organization_id = ?", raw)
				setQuota(map[string]any{"maxUsers": users + room})
				for i := 0; i < n; i++ {
					c.ok(i, admin, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id } }`,
						map[string]any{"in": map[string]any{"email": fmt.Sprintf("user%02d@race.test", i), "role": "MEMBER"}})
				}
				tokens := make([]string, n)
				for i := range tokens {
					link, err := url.Parse(mailtest.Link(smtp.WaitFor(t, fmt.Sprintf("user%02d@race.test", i), 60*time.Second)))
					if err != nil {
						t.Fatal(err)
					}
					tokens[i] = link.Query().Get("token")
				}
				codes := c.race(n, func(i int) (string, string, map[string]any) {
					return "", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token } }`,
						map[string]any{"in": map[string]any{"token": tokens[i], "name": fmt.Sprintf("User %d", i), "password": "a long enough password"}}
				})
				if codes[""] != room || codes["QUOTA_EXCEEDED"] != n-room {
					t.Errorf("answers %v, want %d accepted and %d QUOTA_EXCEEDED", codes, room, n-room)
				}
				if got := count("SELECT COUNT(*) FROM users WHERE organization_id = ?", raw); got != users+room {
					t.Errorf("%d users, want %d", got, users+room)
				}
				if got := count("SELECT COUNT(*) FROM invitations WHERE organization_id = ? AND status = 'ACCEPTED'", raw); got != room {
					t.Errorf("%d invitations accepted, want %d", got, room)
				}
				exact()
				if got := exceededEvents() - before; got != n-room {
					t.Errorf("%d quota.exceeded events, want %d", got, n-room)
				}
			})
			for _, p := range servers {
				p.stop(t)
			}
		})
	}
}
