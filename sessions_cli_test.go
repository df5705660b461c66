package main

// Issue, point 3, through the command line: a password change left old
// tokens valid, and create-admin's password reset is a password change.

import (
	"testing"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/testdb"
)

// A password reset from the command line (the operator's way back into a
// platform administrator's account) ends the sessions the old password
// started, as changePassword does.
func TestPasswordChangeLeavesOldTokensValidCLI(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			u := testdb.URL(t, e)
			cliEnv(t, u)
			adminCLI(t, "first long password\n", "--email", "ops@example.com", "--name", "Ops")
			env := apitest.New(t, openDB(t, u))
			login := `mutation($in: LoginInput!) { login(input: $in) { token } }`
			old := env.Do("", login, map[string]any{"in": map[string]any{"email": "ops@example.com", "password": "first long password"}}).
				OK(t).Get("data.login.token").String()
			env.Do(old, `{ me { id } }`, nil).OK(t)

			adminCLI(t, "second long password\n", "--email", "ops@example.com", "--name", "Ops")
			if r := env.Do(old, `{ me { id } }`, nil); r.Code() != "UNAUTHENTICATED" {
				t.Errorf("a token of the old password after the reset: %s", r.Body)
			}
			fresh := env.Do("", login, map[string]any{"in": map[string]any{"email": "ops@example.com", "password": "second long password"}}).
				OK(t).Get("data.login.token").String()
			env.Do(fresh, `{ me { id } }`, nil).OK(t)
		})
	}
}
