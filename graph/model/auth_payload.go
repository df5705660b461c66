package model

import (
	"time"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/store"
)

// AuthPayload is a signed-in session. Actor is the user it signs in: fields
// below `user` are authorized as that user, since the request itself carried
// no token.
type AuthPayload struct {
	Token     string
	ExpiresAt time.Time
	User      *store.User
	Actor     *auth.Actor
}

// PayloadActor lets the @auth rules authorize the payload's subtree as the
// user it signs in.
func (p *AuthPayload) PayloadActor() *auth.Actor { return p.Actor }
