// Package authz decides what an authenticated caller may touch; package
// auth only says who the caller is.
//
// Rules:
//   - Every GraphQL field has an @auth rule, on the field or inherited from
//     its type; rules.go gives each Access value its meaning in one line,
//     decided on the caller and the object's Owner. A field without a rule
//     is denied.
//   - Field (the gqlgen field middleware) checks every field: the caller
//     and API-token scope first, then, for a field of an object, the rule
//     against that object's organization.
//   - Anything named by ID is fetched, then authorized, in one step: Fetch
//     (services, mutations), Node (node(id:) and the root fields that name
//     an object), Own (creates, in the caller's own organization). A root
//     field whose rule needs an object and whose resolver decides nothing
//     is refused as a bug.
//   - Another organization's object answers NOT_FOUND, exactly like a
//     missing one, and is recorded as access.denied in both trails, after
//     the caller's transaction has ended; the caller's own organization with
//     too small a role answers FORBIDDEN.
//   - Registry is the one list of node types (loader and partner reach);
//     a type not in it does not exist for the API.
//   - Partner access is decided where data is loaded: a workspace through
//     a live grant (Kind.Reach), an organization only as reached from a row
//     the caller may see (ReachedFrom), never by walking parent fields.
package authz
