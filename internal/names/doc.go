// Package names checks the free-text names clients give to people,
// organizations, workspaces and tokens, the same way for every service.
//
// The rules:
//   - Clean (every name): trimmed; refused if empty, not UTF-8, longer than
//     max characters, or holding a control, invisible, format or bidi
//     character (see Invisible); runs of spaces become one ASCII space; NFC.
//   - Display (names of people and organizations): Clean, then the PRECIS
//     Nickname profile (RFC 8266): compatibility forms mapped (NFKC, so
//     full-width "Ａｃｍｅ" reads "Acme"), case kept, unassigned and
//     private-use code points refused.
//   - Skeleton (the uniqueness key of organization names): names that differ
//     only in case, spacing, invisible characters or look-alike letters from
//     other scripts share it. It is stored: changing its output needs a
//     migration that recomputes the stored keys.
package names
