// Package ratelimit keeps callers within their budgets, shared by every
// replica through the database (rate_limits, login_throttles).
//
// Rules:
//   - Budgets are GCRA buckets (throttled's arithmetic; a test runs both on
//     the same sequences): a rate of L per period P holds at most L units
//     and refills one every P/L.
//   - Anonymous requests: one unit each, per client address (IPv6 by /64),
//     charged in one statement before anything else runs.
//   - Authenticated requests: points by complexity (Points) from the
//     caller's bucket and its tenant organization's. The buckets are read in
//     the authenticating statement, the charge is kept in memory and written
//     every FlushEvery: no statement of its own on the request path.
//   - Password sign-ins: per account, per client and from every client, with
//     exponential backoff (LoginPolicy); failed sign-ins are audited once per
//     window, with a count.
//   - Every refusal is RATE_LIMITED with a Retry-After.
//   - Nothing here is decided by an in-process lock: the mutex only guards
//     this replica's unwritten charges.
package ratelimit
