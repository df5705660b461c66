package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// The scenarios of issue 12, in report order; S6n is S6 with a token
// never sent before in every request (the service remembers a token
// refused for good, so S6's one forged token costs it a signature check
// once; S6n's cost one each, as they do the baseline).
const (
	S1  = "S1"
	S2a = "S2a"
	S2b = "S2b"
	S3  = "S3"
	S4  = "S4"
	S6  = "S6"
	S6n = "S6n"
	MIX = "MIX"
)

// Scenarios lists every scenario in report order.
var Scenarios = []string{S1, S2a, S2b, S3, S4, S6, S6n, MIX}

// IsRead reports whether scenario s only reads (the ones measured again at
// half the maximum rate).
func IsRead(s string) bool { return s == S1 || s == S2a || s == S2b || s == S3 }

// The exact GraphQL documents of the scenarios (the common brief's).
const (
	QueryS1  = `{ organizations(first: 50) { totalCount nodes { id name userCount workspaceCount } } }`
	QueryS2  = `query($id: ID!) { organization(id: $id) { users(first: 50) { totalCount pageInfo { hasNextPage endCursor } nodes { id email name role status createdAt } } } }`
	QueryS2b = `query($id: ID!, $after: String) { organization(id: $id) { users(first: 50, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id email name role status createdAt } } } }`
	QueryS3  = `query($id: ID!) { organization(id: $id) { auditEvents(first: 100, filter: {actions: ["workspace.created", "user.login"]}) { pageInfo { hasNextPage endCursor } nodes { id action outcome actorEmail targetType targetId createdAt } } } }`
	QueryS4  = `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { id name } }`
)

// ScenarioHeader names the scenario of a request for the raw baseline
// (the service ignores it).
const ScenarioHeader = "X-Bench-Scenario"

// Fixture is what requests are built from: the seeded IDs and the tokens.
type Fixture struct {
	Seeded
	PlatformToken string // the platform administrator's session token
	AdminToken    string // the big organization's admin's
	BadToken      string // AdminToken with a broken signature (S6)
	BigOrgGID     string // the big organization's global ID
	S2bCursor     string // the cursor of the user at 80 % depth of the big organization
	// Run tells apart the workspace names of different harness runs on the
	// same database.
	Run string
	seq atomic.Uint64
}

// NewFixture mints the tokens (tokens must carry the server's issuer and
// key) and finds the S2b cursor.
func NewFixture(ctx context.Context, d *db.DB, s *Seeded, tokens *auth.Tokens, run string) (*Fixture, error) {
	f := &Fixture{Seeded: *s, BigOrgGID: ids.Encode(ids.Organization, s.BigOrgID), Run: run}
	var err error
	if f.PlatformToken, _, err = tokens.Issue(s.PlatformAdminID, s.PlatformOrgID); err != nil {
		return nil, err
	}
	if f.AdminToken, _, err = tokens.Issue(s.BigOrgAdminID, s.BigOrgID); err != nil {
		return nil, err
	}
	f.BadToken = breakSignature(f.AdminToken)
	var n int64
	if err := d.DB.WithContext(ctx).Raw("SELECT COUNT(*) FROM users WHERE organization_id = ?", s.BigOrgID).Row().Scan(&n); err != nil {
		return nil, err
	}
	var id string
	// The user at 80 % depth by id: #40,000 of 50,000 (large), #4,000 of 5,000 (small).
	if err := d.DB.WithContext(ctx).Raw("SELECT id FROM users WHERE organization_id = ? ORDER BY id LIMIT 1 OFFSET ?", s.BigOrgID, max(n*8/10-1, 0)).Row().Scan(&id); err != nil {
		return nil, fmt.Errorf("S2b cursor: %w", err)
	}
	f.S2bCursor = store.Cursor(id)
	return f, nil
}

// breakSignature changes one character in the middle of the signature: the
// token keeps its shape and its claims, and fails verification.
func breakSignature(tok string) string {
	b := []byte(tok)
	i := len(b) - 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// forgedSignature is breakSignature's token with the i-th of 2^36
// signatures: six characters of the signature, from its fifth on, replaced
// by i in base64url. The signature keeps its length and alphabet, so it is
// decoded and checked, and fails: every i gives a token never seen before.
func forgedSignature(tok string, i uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := []byte(breakSignature(tok))
	at := strings.LastIndexByte(tok, '.') + 5
	for j := range 6 {
		b[at+j] = alphabet[(i>>(6*j))&63]
	}
	return string(b)
}

// Request is one request of a scenario.
type Request struct {
	Scenario string // the scenario actually run (S2a or S4 for MIX)
	Token    string
	Body     []byte
}

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// Next returns the i-th request of scenario s; side tags S4's workspace
// names so the service's and the baseline's never collide.
func (f *Fixture) Next(s, side string, i uint64) Request {
	if s == MIX {
		if i%10 == 9 {
			s = S4
		} else {
			s = S2a
		}
	}
	r := Request{Scenario: s, Token: f.AdminToken}
	var q gqlRequest
	switch s {
	case S1:
		q, r.Token = gqlRequest{Query: QueryS1}, f.PlatformToken
	case S2a:
		q = gqlRequest{Query: QueryS2, Variables: map[string]any{"id": f.BigOrgGID}}
	case S2b:
		q = gqlRequest{Query: QueryS2b, Variables: map[string]any{"id": f.BigOrgGID, "after": f.S2bCursor}}
	case S3:
		q = gqlRequest{Query: QueryS3, Variables: map[string]any{"id": f.BigOrgGID}}
	case S4:
		name := "bench-" + f.Run + "-" + side + "-" + strconv.FormatUint(f.seq.Add(1), 36)
		q = gqlRequest{Query: QueryS4, Variables: map[string]any{"in": map[string]any{
			"name": name, "type": "DEV", "connectionType": "WEB", "cpuCores": 2, "memoryMb": 4096, "storageGb": 20,
		}}}
	case S6:
		q, r.Token = gqlRequest{Query: QueryS2, Variables: map[string]any{"id": f.BigOrgGID}}, f.BadToken
	case S6n:
		// A number of the fixture's, not i: unique across the rounds and
		// both sides, so that no token is ever sent twice.
		q, r.Token = gqlRequest{Query: QueryS2, Variables: map[string]any{"id": f.BigOrgGID}}, forgedSignature(f.AdminToken, f.seq.Add(1))
	default:
		panic("bench: unknown scenario " + s)
	}
	b, err := json.Marshal(q)
	if err != nil {
		panic(err)
	}
	r.Body = b
	return r
}
