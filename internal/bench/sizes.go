package bench

import "github.com/neosc/neosc/internal/seed"

// The data sets: the common brief's "large" and "small" (internal/seed's),
// and a tiny one for the CI run.
var (
	Large = seed.Large()
	Small = seed.Small()
	Tiny  = seed.Options{Organizations: 4, Users: 60, BigOrgUsers: 40, Workspaces: 12, BigOrgWorkspaces: 6, AuditEvents: 400, Seed: 1}
)

// Sizes is the shape of a data set (internal/seed's options).
type Sizes = seed.Options

// Seeded names what the scenarios need of a seeded database (raw store
// UUIDs).
type Seeded struct {
	PlatformOrgID, PlatformAdminID, BigOrgID, BigOrgAdminID string
}
