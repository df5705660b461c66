// Package server is the HTTP surface: routes, middleware, the GraphQL
// handler's setup (transports, limits, error presenter, recover function,
// field rules) and graceful shutdown.
//
// Rules:
//   - Every GraphQL error leaves through one presenter with a contract code;
//     anything not meant for clients becomes INTERNAL_SERVER_ERROR with the
//     request ID, and the log line carries the cause and the same ID.
//   - /graphql takes JSON over POST (at most 1 MiB, else 413) and queries
//     over GET; nothing else. It answers in application/graphql-response+json
//     when the client accepts it (request errors 4xx), else application/json
//     (document errors 200, as the GraphQL over HTTP specification asks); an
//     answer that executed nothing has no data key; every answer has
//     extensions.cost { requested limit }.
//   - Limits (depth, fields, complexity) bind every operation; introspection
//     counts towards fields and tokens only.
//   - CORS only for the exact origins of NEOSC_CORS_ORIGINS, never *, never
//     credentials; none listed: same-origin only.
//   - The request ID is the caller's X-Request-ID when it is short and safe
//     to log (incomingRequestID), else a fresh UUIDv7.
//   - /healthz never touches the database; /readyz does.
package server
