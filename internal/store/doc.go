// Package store holds the GORM models and every query of the service.
//
// Rules:
//   - Tenant scoping lives here. Every method that reads or changes
//     tenant-owned rows takes an organization ID and refuses an empty one with
//     ErrNoScope: an empty scope is an error, never "no filter".
//   - Conditions are explicit SQL (`Where("organization_id = ?", id)`), never
//     GORM struct conditions, which silently drop zero values.
//   - The few lookups by primary key alone (GetByID) exist so that callers can
//     fetch first and then authorize against the fetched row's organization;
//     each is named for that and documented as the bypass it is.
//   - Counters (users, workspaces per organization) change in the same
//     transaction as the rows they count, organization row first, so they
//     stay exact under concurrency on every replica without in-process locks.
//   - Lists use keyset pagination on the time-ordered UUID primary key.
package store
