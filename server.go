// Command neosc is the NeoSC API server.
//
//	neosc [serve]                                 run the server (migrates first)
//	neosc migrate up|down|status                  migrations only
//	neosc create-admin --email E --name N         platform administrator; password on stdin
//	neosc keys rotate                             new signing key (database keys only)
//	neosc seed [--scale small|large] [--users N ...] deterministic benchmark data set (docs/seed.md)
//	neosc healthcheck                             exit 0 when the local server is ready (for container healthchecks)
//
// Configuration comes from the NEOSC_* environment variables (README).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/pressly/goose/v3"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/identity"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/logsink"
	"github.com/neosc/neosc/internal/mail"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/seed"
	"github.com/neosc/neosc/internal/server"
	"github.com/neosc/neosc/internal/store"
)

// shutdownGrace is how long in-flight requests get after SIGTERM.
const shutdownGrace = 25 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "neosc:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "migrate", "create-admin", "keys", "healthcheck", "seed":
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}

	var seedOpts seed.Options
	if cmd == "seed" {
		// Flags first: a bad flag is answered before the database is opened.
		o, err := seedOptions(args, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h: the flags are printed
		}
		if err != nil {
			return err
		}
		seedOpts = o
	}
	cfg, err := config.Load(os.Getenv, isTerminal(stderr))
	if err != nil {
		return err
	}
	if cmd == "healthcheck" {
		return healthcheck(ctx, cfg.Addr)
	}
	logw := stderr
	if cmd == "serve" {
		// The server's log lines (one access-log line per request) are
		// written by one goroutine, many per write(2) under load
		// (internal/logsink); the deferred Close writes what is left.
		sink := logsink.New(stderr, 0, 0)
		defer func() { _ = sink.Close() }()
		logw = sink
	}
	log := server.NewLogger(logw, cfg.LogFormat, slog.LevelInfo)
	d, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	m, err := db.NewMigrator(d, log, db.WithDefaultOrganization(cfg.DefaultOrgName))
	if err != nil {
		return err
	}

	switch cmd {
	case "migrate":
		return migrate(ctx, m, args, stdout)
	case "create-admin":
		return createAdmin(ctx, cfg, d, m, log, args, stdin, stdout)
	case "keys":
		return keysCommand(ctx, cfg, d, m, log, args, stdout)
	case "seed":
		return seedCommand(ctx, d, m, seedOpts, stdout)
	}
	return serve(ctx, cfg, d, m, log)
}

const usage = `usage:
  neosc [serve]                           run the server (applies pending migrations first)
  neosc migrate up|down|status            migrations only
  neosc create-admin --email E --name N   create or promote a platform administrator;
                                          the password is read from standard input
  neosc keys rotate                       store a new signing key and retire the current one
                                          (needs NEOSC_KEY_ENCRYPTION_KEY)
  neosc healthcheck                       exit 0 when the server at NEOSC_ADDR answers /readyz
  neosc seed [--scale small|large] [--organizations N] [--users N] [--big-org-users N]
             [--workspaces N] [--big-org-workspaces N] [--audit-events N] [--seed N]
                                          write the deterministic benchmark data set into a fresh
                                          database (docs/seed.md); refuses one that holds users
`

func serve(ctx context.Context, cfg *config.Config, d *db.DB, m *db.Migrator, log *slog.Logger) error {
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// signOut deletes expired denylist rows as it goes; a start does too,
	// for a deployment where nobody has signed out for a while.
	if n, err := store.New(d.DB).Sessions.DeleteExpired(ctx, time.Now().UTC()); err != nil {
		log.Warn("delete expired signed-out sessions", "err", err)
	} else if n > 0 {
		log.Info("expired signed-out sessions deleted", "rows", n)
	}
	signingKeys, err := openSigningKeys(ctx, cfg, d, log)
	if err != nil {
		return err
	}
	if ring, ok := signingKeys.(*auth.Keyring); ok {
		defer ring.Start(ctx)()
	}
	tokens := auth.NewTokensWith(cfg.PublicURL, cfg.TokenTTL, signingKeys)
	limits := ratelimit.New(store.New(d.DB), ratelimit.Config{
		Anonymous: cfg.RateLimitAnonymous, Caller: cfg.RateLimitToken, Organization: cfg.RateLimitOrganization,
		Logins: ratelimit.LoginPolicy{MaxFailures: cfg.LoginMaxFailures},
	}, log)
	defer limits.Start(ctx)() // stopped, with a last flush, once the server has shut down
	deps := server.Deps{DB: d, Migrator: m, Tokens: tokens, Log: log, DefaultOrgName: cfg.DefaultOrgName, Introspection: cfg.Introspection,
		PublicURL: cfg.PublicURL, MaxPendingInvitations: cfg.MaxPendingInvitations,
		DNSResolver: cfg.DNSResolver, RequestTimeout: cfg.RequestTimeout,
		TrustedProxies: cfg.TrustedProxies, Limits: limits, Passwords: passwords(cfg, log),
		CORSOrigins: cfg.CORSOrigins, OIDCIssuer: cfg.OIDCIssuer, OIDCClientID: cfg.OIDCClientID}
	deps.DefaultQuota = cfg.DefaultQuota
	if cfg.OIDCIssuer != "" {
		deps.OIDC = auth.NewOIDC(cfg.OIDCIssuer, cfg.OIDCAudience, cfg.OIDCOrgClaims, cfg.OIDCAdminRole)
		deps.OIDC.AllowInsecure = cfg.OIDCAllowInsecure
		defer deps.OIDC.Close()
		log.Info("single sign-on enabled", "issuer", cfg.OIDCIssuer, "audience", cfg.OIDCAudience, "org_claims", cfg.OIDCOrgClaims)
		if cfg.OIDCAllowInsecure {
			log.Warn("NEOSC_OIDC_ALLOW_INSECURE=true: the provider's discovery and keys may be fetched over plain http")
		}
	}
	h := server.New(deps)
	sender, err := mail.NewSender(store.New(d.DB), mail.Options{SMTP: cfg.SMTP, From: cfg.MailFrom, Log: log})
	if err != nil {
		return err
	}
	defer sender.Start(ctx)() // stopped once the server has shut down
	ready := make(chan string, 1)
	go func() {
		if addr, ok := <-ready; ok {
			log.Info("serving", "addr", addr, "url", cfg.PublicURL+"/graphql",
				"database", db.RedactURL(cfg.DatabaseURL), "kid", tokens.SigningKey().KeyID(), "request_timeout", cfg.RequestTimeout.String())
		}
	}()
	return server.Serve(ctx, cfg.Addr, h, shutdownGrace, log, ready)
}

// openSigningKeys returns the keys tokens are signed with. Without
// NEOSC_KEY_ENCRYPTION_KEY: the key file (created on first start), the
// zero-setup default of a single node, which every replica would have to
// share. With it: the keys in the database, shared by every replica and
// rotated by `neosc keys rotate`; when the database has none yet, the key
// file (if there is one) becomes the first, so its tokens keep working.
func openSigningKeys(ctx context.Context, cfg *config.Config, d *db.DB, log *slog.Logger) (auth.Keys, error) {
	if cfg.KeyEncryptionKey == nil {
		key, err := auth.LoadOrCreateSigningKey(cfg.SigningKeyFile)
		if err != nil {
			return nil, err
		}
		if d.Engine == db.MySQL {
			log.Warn("the signing key is a file: every replica must have this same file; set NEOSC_KEY_ENCRYPTION_KEY to keep the keys in the database instead",
				"file", cfg.SigningKeyFile, "kid", key.KeyID())
		}
		return auth.SingleKey(key)
	}
	return openKeyring(ctx, cfg, store.New(d.DB), log)
}

func openKeyring(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger) (*auth.Keyring, error) {
	return auth.OpenKeyring(ctx, st, cfg.KeyEncryptionKey.Bytes(), auth.KeyringOptions{Log: log,
		FirstKey: func() (jwk.Key, error) { return auth.ReadSigningKeyFile(cfg.SigningKeyFile) }})
}

// keysCommand runs `neosc keys rotate`: a new key that signs once every replica
// has loaded it, and the current one retired once the tokens it signed have
// expired (at the NEOSC_TOKEN_TTL given here: the servers' own).
func keysCommand(ctx context.Context, cfg *config.Config, d *db.DB, m *db.Migrator, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "rotate" {
		return errors.New("usage: neosc keys rotate")
	}
	if cfg.KeyEncryptionKey == nil {
		return errors.New("keys rotate: the signing key is the file NEOSC_SIGNING_KEY_FILE, which does not rotate; set NEOSC_KEY_ENCRYPTION_KEY to keep the keys in the database (docs/operations.md)")
	}
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	st := store.New(d.DB)
	ring, err := openKeyring(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	var rot *auth.Rotation
	err = st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if rot, err = ring.Rotate(ctx, tx, cfg.TokenTTL); err != nil {
			return err
		}
		retired := make([]map[string]any, len(rot.Retired))
		for i, k := range rot.Retired {
			retired[i] = map[string]any{"kid": k.ID, "verifiesUntil": verifiesUntil(k).Format(time.RFC3339)}
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.SigningKeyRotated, Actor: audit.Actor{Email: "cli:keys rotate"},
			Metadata: map[string]any{"kid": rot.New.ID, "activatesAt": rot.New.ActivatesAt.Format(time.RFC3339), "retired": retired},
		})
	})
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	fmt.Fprintf(stdout, "new key %s published; it signs from %s, when every replica has loaded it\n", rot.New.ID, rot.New.ActivatesAt.UTC().Format(time.RFC3339))
	for _, k := range rot.Retired {
		fmt.Fprintf(stdout, "key %s retired: its tokens verify until %s (session tokens of NEOSC_TOKEN_TTL=%s at most)\n",
			k.ID, verifiesUntil(k).UTC().Format(time.RFC3339), cfg.TokenTTL)
	}
	return nil
}

// verifiesUntil is when a retired key stops verifying: the later of the
// end of its session tokens and of its API tokens.
func verifiesUntil(k *store.SigningKey) time.Time {
	if k.KeepUntil != nil && k.KeepUntil.After(*k.ExpiresAt) {
		return *k.KeepUntil
	}
	return *k.ExpiresAt
}

// passwords applies the memory limit and returns the password-hashing
// bound that fits it.
func passwords(cfg *config.Config, log *slog.Logger) *auth.Passwords {
	if cfg.MemoryLimit > 0 {
		debug.SetMemoryLimit(cfg.MemoryLimit)
	}
	limit := debug.SetMemoryLimit(-1) // the limit in force
	gogc := os.Getenv("GOGC")
	if gogc == "" {
		debug.SetGCPercent(config.DefaultGCPercent)
		gogc = strconv.Itoa(config.DefaultGCPercent)
	}
	n := cfg.HashConcurrency
	if n == 0 {
		n = auth.DefaultHashConcurrency(limit)
	}
	shown := "off"
	if limit != math.MaxInt64 {
		shown = strconv.FormatInt(limit>>20, 10) + "MiB"
	}
	log.Info("limits", "memory_limit", shown, "gogc", gogc, "hash_concurrency", n, "hash_queue", n*auth.DefaultHashQueuePerSlot,
		"rate_limit_anonymous", cfg.RateLimitAnonymous.String(), "rate_limit_token", cfg.RateLimitToken.String(),
		"rate_limit_organization", cfg.RateLimitOrganization.String(), "trusted_proxies", len(cfg.TrustedProxies))
	return auth.NewPasswords(n, n*auth.DefaultHashQueuePerSlot, auth.DefaultHashWait)
}

func migrate(ctx context.Context, m *db.Migrator, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: neosc migrate up|down|status")
	}
	switch args[0] {
	case "up":
		res, err := m.Up(ctx)
		if err != nil {
			return err
		}
		for _, r := range res {
			fmt.Fprintf(stdout, "applied %s\n", r.Source.Path)
		}
		if len(res) == 0 {
			fmt.Fprintln(stdout, "no pending migrations")
		}
	case "down":
		if cur, err := m.Status(ctx); err == nil && !anyApplied(cur) {
			return errors.New("migrate down: nothing to roll back (no migration is applied)")
		}
		r, err := m.Down(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rolled back %s\n", sourceName(r.Source))
	case "status":
		list, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range list {
			applied := "pending"
			if s.State == goose.StateApplied {
				applied = "applied " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%05d  %-40s %s\n", s.Source.Version, sourceName(s.Source), applied)
		}
	default:
		return fmt.Errorf("unknown migrate command %q: want up, down or status", args[0])
	}
	return nil
}

func createAdmin(ctx context.Context, cfg *config.Config, d *db.DB, m *db.Migrator, log *slog.Logger, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	email := fs.String("email", "", "the administrator's email")
	name := fs.String("name", "", "the administrator's name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		return errors.New("usage: neosc create-admin --email E --name N  (password on standard input)")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	svc := &identity.Service{Store: store.New(d.DB), DefaultOrgName: cfg.DefaultOrgName, Log: log, Passwords: auth.NewPasswords(1, 0, 0)}
	u, _, err := svc.CreatePlatformAdmin(ctx, *email, *name, password)
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Code != apperr.Internal {
			return errors.New(ae.Message)
		}
		return err
	}
	fmt.Fprintln(stdout, ids.Encode(ids.User, u.ID))
	return nil
}

// seedOptions reads `neosc seed`'s flags: --scale picks the sizes, the
// other flags override them one by one.
func seedOptions(args []string, stderr io.Writer) (seed.Options, error) {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.String("scale", "large", "data set size: small (one tenth) or large (issue 12's)")
	orgs := fs.Int("organizations", 0, "organizations, the big one included (default: the scale's)")
	users := fs.Int("users", 0, "users in all (default: the scale's)")
	bigUsers := fs.Int("big-org-users", 0, "users of the big organization (default: the scale's)")
	wss := fs.Int("workspaces", 0, "workspaces in all (default: the scale's)")
	bigWss := fs.Int("big-org-workspaces", 0, "workspaces of the big organization (default: the scale's)")
	events := fs.Int("audit-events", 0, "audit events in all, half in the big organization (default: the scale's)")
	seedValue := fs.Int64("seed", 1, "random seed: the same seed and sizes give the same rows and IDs")
	if err := fs.Parse(args); err != nil {
		return seed.Options{}, fmt.Errorf("seed: %w (neosc seed -h lists the flags)", err)
	}
	if fs.NArg() > 0 {
		return seed.Options{}, fmt.Errorf("seed: unexpected argument %q (neosc seed -h lists the flags)", fs.Arg(0))
	}
	var o seed.Options
	switch *scale {
	case "large":
		o = seed.Large()
	case "small":
		o = seed.Small()
	default:
		return seed.Options{}, fmt.Errorf("seed: --scale must be small or large, not %q", *scale)
	}
	given := map[string]*int{"organizations": orgs, "users": users, "big-org-users": bigUsers,
		"workspaces": wss, "big-org-workspaces": bigWss, "audit-events": events}
	into := map[string]*int{"organizations": &o.Organizations, "users": &o.Users, "big-org-users": &o.BigOrgUsers,
		"workspaces": &o.Workspaces, "big-org-workspaces": &o.BigOrgWorkspaces, "audit-events": &o.AuditEvents}
	fs.Visit(func(f *flag.Flag) {
		if v, ok := given[f.Name]; ok {
			*into[f.Name] = *v
		}
	})
	o.Seed = *seedValue
	if err := o.Validate(); err != nil {
		return seed.Options{}, fmt.Errorf("seed: %w", err)
	}
	return o, nil
}

func seedCommand(ctx context.Context, d *db.DB, m *db.Migrator, o seed.Options, stdout io.Writer) error {
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	start := time.Now()
	res, err := seed.Run(ctx, d, o, stdout)
	if err != nil {
		return err
	}
	tables := make([]string, 0, len(res.Counts))
	for t := range res.Counts {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	fmt.Fprintf(stdout, "seeded in %.1fs (%s, seed %d):\n", time.Since(start).Seconds(), d.Engine, o.Seed)
	for _, t := range tables {
		fmt.Fprintf(stdout, "  %-26s %9d\n", t, res.Counts[t])
	}
	fmt.Fprintf(stdout, "big organization:    %s (%s)\n", ids.Encode(ids.Organization, res.BigOrgID), res.BigOrgID)
	fmt.Fprintf(stdout, "big org admin:       %s\n", res.BigOrgAdminEmail)
	fmt.Fprintf(stdout, "platform admin:      %s\n", res.PlatformAdminEmail)
	fmt.Fprintf(stdout, "password (everyone): %s\n", res.Password)
	return nil
}

// healthcheck asks the server listening on addr (this host) whether it is
// ready: distroless images have no curl for a container healthcheck.
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /readyz answered %d", res.StatusCode)
	}
	return nil
}

// sourceName names a migration: its SQL file, or "go:<version>" for one
// written in Go (migrations.Go).
func sourceName(s *goose.Source) string {
	if s.Path == "" {
		return fmt.Sprintf("go:%05d", s.Version)
	}
	return s.Path
}

func anyApplied(list []*goose.MigrationStatus) bool {
	for _, s := range list {
		if s.State == goose.StateApplied {
			return true
		}
	}
	return false
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
