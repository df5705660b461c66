// Package graph is the GraphQL layer: generated executor plus thin
// resolvers that decode arguments, call internal packages and return their
// errors. No GORM here.
package graph

//go:generate go run github.com/99designs/gqlgen generate

import (
	"github.com/neosc/neosc/internal/apitokens"
	"github.com/neosc/neosc/internal/identity"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/workspaces"
)

// Resolver holds the dependencies of every resolver, nothing else.
type Resolver struct {
	Store      *store.Store
	Identity   *identity.Service
	Workspaces *workspaces.Service
	APITokens  *apitokens.Service
}
