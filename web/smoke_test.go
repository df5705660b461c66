package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/webtest"
)

func TestSmoke(t *testing.T) {
	env := apitest.New(t, testdb.New(t, db.SQLite))
	b := webtest.NewBrowser(t)
	b.Do(b.Ctx, chromedp.Navigate(env.Server.URL+"/graphiql"), chromedp.WaitVisible(".graphiql-container"))
	b.Screenshot(b.Ctx, "smoke-graphiql")
	t.Log(b.Requests())
}
