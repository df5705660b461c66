// Package domains lets an organization claim email domains and prove it
// controls them with a DNS TXT record.
//
// Rules:
//   - Every change is made by an ADMIN in the caller's own organization
//     (authz.Own with ORG_ADMIN); a domain is named by its name, looked up
//     inside that organization only. List is for MEMBERs of the listed
//     organization (authz.Loaded); the verification record is for its
//     admins alone (the @auth rule of OrganizationDomain.verificationRecord).
//   - Input is normalised (Normalize): a lower-case A-label under a public
//     suffix, never a public or disposable mail domain.
//   - An unverified domain blocks nobody: several organizations may add it.
//     A verified one belongs to one organization (the unique key on
//     verified_domain): the first to verify wins, and nobody else can add
//     or verify it (CONFLICT).
//   - Verification looks up TXT _neosc-challenge.<domain> (Resolver) before
//     any transaction; a failed verification changes nothing.
//   - Each change and its domain.* audit event share one transaction.
package domains
