// Package graph is the GraphQL layer: generated executor plus thin
// resolvers that decode arguments, call internal packages and return their
// errors. No GORM here, and no authorization decision of its own: objects
// named by ID come through internal/authz.
package graph

//go:generate go run github.com/99designs/gqlgen generate
//go:generate go run github.com/neosc/neosc/internal/gqlseq generated.go lists_gen.go

import (
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/neosc/neosc/internal/apitokens"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/domains"
	"github.com/neosc/neosc/internal/identity"
	"github.com/neosc/neosc/internal/organizations"
	"github.com/neosc/neosc/internal/policy"
	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/usage"
	"github.com/neosc/neosc/internal/workspaces"
)

// Resolver holds the dependencies of every resolver, nothing else.
type Resolver struct {
	Store         *store.Store
	Authz         *authz.Authorizer
	Identity      *identity.Service
	Organizations *organizations.Service
	Workspaces    *workspaces.Service
	APITokens     *apitokens.Service
	Domains       *domains.Service
	// Policies: organizations' security policies and branding.
	Policies *policy.Service
	// Quotas sets organizations' quotas (issue 11).
	Quotas *quota.Service
	// Usage answers usage reports (issue 11, billing).
	Usage *usage.Service
}

// Schema is the parsed schema (for the authorizer's rule index).
func Schema() *ast.Schema { return NewExecutableSchema(Config{}).Schema() }
