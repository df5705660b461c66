// Package policy holds an organization's security policy and branding.
//
// Rules:
//   - Both are changed by the organization's ADMINs (updateSecurityPolicy,
//     updateOrganizationBranding) through authz.FetchForUpdate on the
//     organization (its row locked first, then the policy row), with the
//     audit event in the same transaction.
//   - requireSso may be turned on only for an organization whose users can
//     sign in by SSO (Organization.ExternalIssuer); internal/identity then
//     refuses every password path into it (platform administrators excepted).
//   - allowedIpRanges is enforced by Admit, run by the authenticator on every
//     authenticated request (session and API tokens alike) with the policy
//     read in the statement that loaded the caller; the client address is
//     the one of the rate limits and the audit trail (trusted proxies only).
//     Platform administrators are exempt. Refusals are access.denied, at most
//     one event per caller and address per window, with a count.
//   - An admin cannot save ranges that exclude their own current address.
//   - sessionTtlMinutes caps new session tokens (internal/identity.sign).
//   - Branding accepts https URLs without credentials, #RRGGBB colours and
//     a display name cleaned like every name; "" clears a field, null leaves
//     it. organizationBranding answers it, and only it, for an active tenant
//     organization's slug; anything else is null, by one statement of the
//     same shape.
package policy
