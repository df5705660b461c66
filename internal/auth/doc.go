// Package auth verifies who is calling and decides what they may touch.
//
// Rules:
//   - A Bearer token is verified (signature with the key's own algorithm,
//     exp required, iss and aud checked, small skew) before any SQL runs; any
//     failure is UNAUTHENTICATED.
//   - The caller is then loaded from the database once per request: a
//     deactivated user, a changed role or a suspended organization counts on
//     the next request, whatever the token says.
//   - Every GraphQL field has an @auth rule, on the field or on its type. The
//     field middleware (Rules) enforces it for every field, trivial ones
//     included, and denies a field that has none.
//   - An object of another organization is answered exactly like a missing
//     one (NOT_FOUND) and the attempt is recorded as access.denied.
package auth
