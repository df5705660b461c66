// Package auth verifies who is calling; package authz decides what they may
// touch.
//
// Rules:
//   - A Bearer token is verified (signature with an algorithm the key allows,
//     exp required, iss and aud checked, small skew) before any SQL runs; any
//     failure is UNAUTHENTICATED.
//   - The caller is then loaded from the database once per request: a
//     deactivated user, a changed role or a suspended organization counts on
//     the next request, whatever the token says.
//   - Passwords are hashed with argon2id and never leave this package in
//     clear.
package auth
