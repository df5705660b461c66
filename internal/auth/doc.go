// Package auth verifies who is calling; package authz decides what they may
// touch.
//
// Rules:
//   - A Bearer token is verified (signature with an algorithm the key allows,
//     exp required, iss and aud checked, small skew) before any SQL runs; any
//     failure is UNAUTHENTICATED.
//   - The caller is then loaded from the database once per request, in one
//     statement: a deactivated user, a changed role, a suspended
//     organization, a signed-out session token or one issued before its
//     user's sessions were ended counts on the next request, whatever the
//     token says.
//   - A token that verified is remembered per process (bounded, by its hash)
//     while it is unexpired and its key still verifies, so its signature is
//     checked once; what the database says about the caller is never
//     cached. A token whose signature does not verify with the key its
//     kid names is remembered as refused (bounded too): a replayed forgery
//     costs a lookup, not a signature check.
//   - Signing keys are a file (one node) or sealed in the database under
//     NEOSC_KEY_ENCRYPTION_KEY (any number of replicas, rotated); verifying
//     reads them from memory, never from the database per request.
//   - Passwords are hashed with argon2id and never leave this package in
//     clear.
package auth
