// Package server is the HTTP surface: routes, middleware, the GraphQL
// handler's setup (transports, limits, error presenter, recover function,
// field rules) and graceful shutdown.
//
// Rules:
//   - Every GraphQL error leaves through one presenter with a contract code;
//     anything not meant for clients becomes INTERNAL_SERVER_ERROR with the
//     request ID, and the log line carries the cause and the same ID.
//   - /graphql takes JSON over POST (at most 1 MiB, else 413) and queries
//     over GET; nothing else.
//   - /healthz never touches the database; /readyz does.
package server
