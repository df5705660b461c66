package main

// There is no Docker engine where the tests run, so the deployment files are
// checked by reading them: docker-compose.yml through typed structs (unknown
// keys are errors), the Dockerfile instruction by instruction.

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
)

// composeFile is the part of the Compose specification the file may use.
type composeFile struct {
	Name     string                     `yaml:"name"`
	Services map[string]*composeService `yaml:"services"`
	Volumes  map[string]*composeVolume  `yaml:"volumes"`
}

type composeService struct {
	Image           string              `yaml:"image"`
	Build           *composeBuild       `yaml:"build"`
	Restart         string              `yaml:"restart"`
	Command         []string            `yaml:"command"`
	Environment     composeEnv          `yaml:"environment"`
	Ports           []string            `yaml:"ports"`
	Volumes         []string            `yaml:"volumes"`
	DependsOn       composeDependsOn    `yaml:"depends_on"`
	Healthcheck     *composeHealthcheck `yaml:"healthcheck"`
	StopGracePeriod string              `yaml:"stop_grace_period"`
}

type composeVolume struct {
	Driver string `yaml:"driver"`
}

type composeHealthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

// composeBuild is `build: DIR` or `build: {context: DIR, dockerfile: FILE}`.
type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (b *composeBuild) UnmarshalYAML(unmarshal func(any) error) error {
	var dir string
	if err := unmarshal(&dir); err == nil {
		*b = composeBuild{Context: dir}
		return nil
	}
	type plain composeBuild
	return unmarshal((*plain)(b))
}

// composeEnv is `environment` as a mapping or as a list of NAME=VALUE.
type composeEnv map[string]string

func (e *composeEnv) UnmarshalYAML(unmarshal func(any) error) error {
	var list []string
	if err := unmarshal(&list); err == nil {
		*e = composeEnv{}
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			(*e)[k] = v
		}
		return nil
	}
	var m map[string]string
	if err := unmarshal(&m); err != nil {
		return err
	}
	*e = m
	return nil
}

// composeDependsOn is `depends_on` as a list (condition service_started) or
// as a mapping service → {condition}.
type composeDependsOn map[string]struct {
	Condition string `yaml:"condition"`
	Restart   bool   `yaml:"restart"`
}

func (d *composeDependsOn) UnmarshalYAML(unmarshal func(any) error) error {
	var list []string
	if err := unmarshal(&list); err == nil {
		*d = composeDependsOn{}
		for _, s := range list {
			e := (*d)[s]
			e.Condition = "service_started"
			(*d)[s] = e
		}
		return nil
	}
	type plain composeDependsOn
	return unmarshal((*plain)(d))
}

func loadCompose(t *testing.T) *composeFile {
	t.Helper()
	raw, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.UnmarshalWithOptions(raw, &f, yaml.Strict()); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return &f
}

func TestDockerCompose(t *testing.T) {
	f := loadCompose(t)
	mysql, neosc := f.Services["mysql"], f.Services["neosc"]
	if mysql == nil || neosc == nil {
		t.Fatalf("services %v: want mysql and neosc", slices.Sorted(maps.Keys(f.Services)))
	}

	t.Run("mysql", func(t *testing.T) {
		if !regexp.MustCompile(`^(docker\.io/)?(library/)?mysql:8(\.\d+){1,2}$`).MatchString(mysql.Image) {
			t.Errorf("mysql image %q: want mysql:8.x", mysql.Image)
		}
		for _, k := range []string{"MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD"} {
			if mysql.Environment[k] == "" {
				t.Errorf("mysql: %s not set", k)
			}
		}
		// The image refuses to initialize without a root password decision.
		if mysql.Environment["MYSQL_ROOT_PASSWORD"] == "" && mysql.Environment["MYSQL_RANDOM_ROOT_PASSWORD"] == "" {
			t.Error("mysql: neither MYSQL_ROOT_PASSWORD nor MYSQL_RANDOM_ROOT_PASSWORD set")
		}
		hc := mysql.Healthcheck
		if hc == nil || len(hc.Test) < 2 {
			t.Fatalf("mysql: healthcheck %+v: want a test", hc)
		}
		if hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL" {
			t.Errorf("mysql healthcheck test %q: want [CMD ...] or [CMD-SHELL ...]", hc.Test)
		}
		cmd := strings.Join(hc.Test[1:], " ")
		if !strings.Contains(cmd, "mysqladmin") || !strings.Contains(cmd, "ping") {
			t.Errorf("mysql healthcheck %q: want mysqladmin ping", cmd)
		}
		if hc.Retries < 1 {
			t.Errorf("mysql healthcheck retries %d: want at least 1", hc.Retries)
		}
		for _, d := range []string{hc.Interval, hc.Timeout, hc.StartPeriod} {
			if _, err := time.ParseDuration(d); d != "" && err != nil {
				t.Errorf("mysql healthcheck duration %q: %v", d, err)
			}
		}
		checkNamedVolume(t, f, mysql, "/var/lib/mysql")
	})

	t.Run("neosc build", func(t *testing.T) {
		if neosc.Build == nil {
			t.Fatal("neosc: no build section")
		}
		if filepath.Clean(neosc.Build.Context) != "." {
			t.Errorf("neosc build context %q: want . (the module root)", neosc.Build.Context)
		}
		dockerfile := neosc.Build.Dockerfile
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		if st, err := os.Stat(filepath.Join(neosc.Build.Context, dockerfile)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("neosc build: Dockerfile %q missing (%v)", dockerfile, err)
		}
		if _, err := os.Stat(filepath.Join(neosc.Build.Context, "go.mod")); err != nil {
			t.Errorf("neosc build context %q has no go.mod: %v", neosc.Build.Context, err)
		}
	})

	t.Run("neosc environment", func(t *testing.T) {
		for k, v := range neosc.Environment {
			// The test reads values literally; interpolation would hide them.
			if strings.Contains(strings.ReplaceAll(v, "$$", ""), "$") {
				t.Errorf("neosc %s=%q uses interpolation; this test cannot check it", k, v)
			}
		}
		// config.Load must take the environment as given, and read every
		// NEOSC_* variable the file sets (a misspelled one is silently ignored
		// by the service, so it is caught here).
		read := map[string]bool{}
		getenv := func(name string) string {
			read[name] = true
			return neosc.Environment[name]
		}
		cfg, err := config.Load(getenv, false)
		if err != nil {
			t.Fatalf("config.Load refuses the compose environment: %v", err)
		}
		for k := range neosc.Environment {
			if strings.HasPrefix(k, "NEOSC_") && !read[k] {
				t.Errorf("neosc sets %s, which config.Load never reads", k)
			}
		}
		if cfg.LogFormat != "json" {
			t.Errorf("log format %q: want json in a container", cfg.LogFormat)
		}

		// The database is the mysql service's, with the credentials it creates.
		raw := neosc.Environment["NEOSC_DATABASE_URL"]
		if cfg.DatabaseURL != raw || raw == "" {
			t.Fatalf("NEOSC_DATABASE_URL %q: config read %q", raw, cfg.DatabaseURL)
		}
		mc, err := db.ParseMySQLURL(raw)
		if err != nil {
			t.Fatalf("NEOSC_DATABASE_URL: %v", err)
		}
		host, port, err := net.SplitHostPort(mc.Addr)
		if err != nil {
			t.Fatal(err)
		}
		if host != "mysql" || port != "3306" {
			t.Errorf("NEOSC_DATABASE_URL points at %s: want the mysql service, mysql:3306", mc.Addr)
		}
		for _, c := range []struct{ what, got, want string }{
			{"database", mc.DBName, mysql.Environment["MYSQL_DATABASE"]},
			{"user", mc.User, mysql.Environment["MYSQL_USER"]},
			{"password", mc.Passwd, mysql.Environment["MYSQL_PASSWORD"]},
		} {
			if c.got != c.want {
				t.Errorf("NEOSC_DATABASE_URL %s %q, but the mysql service creates %q", c.what, c.got, c.want)
			}
		}

		// The signing key must survive a container's replacement.
		key := cfg.SigningKeyFile
		if !path.IsAbs(key) {
			t.Errorf("NEOSC_SIGNING_KEY_FILE %q: want an absolute path in the container", key)
		}
		checkNamedVolume(t, f, neosc, path.Dir(key))

		// Tokens name the URL clients reach: the published port.
		pu, err := url.Parse(cfg.PublicURL)
		if err != nil {
			t.Fatal(err)
		}
		_, listenPort, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			t.Fatal(err)
		}
		published := publishedPorts(t, neosc.Ports)
		if published[listenPort] == "" {
			t.Errorf("ports %q: the service listens on %s (NEOSC_ADDR %q), which is not published", neosc.Ports, listenPort, cfg.Addr)
		}
		if pu.Hostname() == "localhost" && published[listenPort] != pu.Port() {
			t.Errorf("NEOSC_PUBLIC_URL %s: port %q, but the service is published on host port %q", cfg.PublicURL, pu.Port(), published[listenPort])
		}
	})

	t.Run("neosc ports", func(t *testing.T) {
		if got := publishedPorts(t, neosc.Ports)["8080"]; got != "8080" {
			t.Errorf("ports %q: want 8080 published as 8080", neosc.Ports)
		}
	})

	t.Run("start order and shutdown", func(t *testing.T) {
		dep, ok := neosc.DependsOn["mysql"]
		if !ok {
			t.Fatalf("neosc depends_on %v: want mysql", neosc.DependsOn)
		}
		if dep.Condition != "service_healthy" {
			t.Errorf("neosc depends_on mysql condition %q: want service_healthy", dep.Condition)
		}
		if mysql.Healthcheck == nil {
			t.Error("service_healthy needs a healthcheck on mysql")
		}
		// Docker's default stop timeout (10 s) would kill in-flight requests
		// before the server's own grace period ends.
		grace := 10 * time.Second
		if neosc.StopGracePeriod != "" {
			var err error
			if grace, err = time.ParseDuration(neosc.StopGracePeriod); err != nil {
				t.Fatalf("neosc stop_grace_period: %v", err)
			}
		}
		if grace <= shutdownGrace {
			t.Errorf("neosc stop_grace_period %v: want more than the server's shutdown grace %v", grace, shutdownGrace)
		}
	})
}

// checkNamedVolume requires dir in the container to be on a named volume
// that the file declares.
func checkNamedVolume(t *testing.T, f *composeFile, s *composeService, dir string) {
	t.Helper()
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || path.Clean(parts[1]) != path.Clean(dir) {
			continue
		}
		src := parts[0]
		if strings.ContainsAny(src, "/.~") {
			t.Errorf("volume %q: %s is a bind mount, want a named volume", v, dir)
			return
		}
		if _, ok := f.Volumes[src]; !ok {
			t.Errorf("volume %q: %q is not declared under the top-level volumes", v, src)
		}
		return
	}
	t.Errorf("volumes %q: nothing mounted on %s", s.Volumes, dir)
}

// publishedPorts maps container port → host port for short-syntax entries
// ("8080:8080", "127.0.0.1:8080:8080", "8080:8080/tcp").
func publishedPorts(t *testing.T, ports []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range ports {
		p, proto, _ := strings.Cut(p, "/")
		if proto != "" && proto != "tcp" {
			continue
		}
		parts := strings.Split(p, ":")
		if len(parts) < 2 {
			t.Errorf("port %q: publish it with an explicit host port", p)
			continue
		}
		host, container := parts[len(parts)-2], parts[len(parts)-1]
		for _, n := range []string{host, container} {
			if i, err := strconv.Atoi(n); err != nil || i < 1 || i > 65535 {
				t.Errorf("port %q: %q is not a port number", p, n)
			}
		}
		out[container] = host
	}
	return out
}

// dockerInstr is one Dockerfile instruction, continuation lines joined.
type dockerInstr struct {
	Cmd   string // upper case
	Args  string
	Flags []string // --from=..., --chown=...
	Line  int
}

type dockerStage struct {
	From, Name string
	Instr      []dockerInstr
}

func parseDockerfile(t *testing.T, name string) []*dockerStage {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var (
		stages []*dockerStage
		buf    strings.Builder
		start  int
	)
	flush := func() {
		text := strings.TrimSpace(buf.String())
		buf.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := dockerInstr{Cmd: strings.ToUpper(cmd), Line: start}
		args = strings.TrimSpace(args)
		for strings.HasPrefix(args, "--") {
			flag, rest, _ := strings.Cut(args, " ")
			in.Flags = append(in.Flags, flag)
			args = strings.TrimSpace(rest)
		}
		in.Args = args
		if in.Cmd == "FROM" {
			fields := strings.Fields(args)
			st := &dockerStage{From: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.Name = fields[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			t.Errorf("%s:%d: %s before FROM", name, in.Line, in.Cmd)
			return
		}
		st := stages[len(stages)-1]
		st.Instr = append(st.Instr, in)
	}
	for i, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments (and parser directives), also inside continuations
		}
		if buf.Len() == 0 {
			start = i + 1
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			buf.WriteString(strings.TrimSpace(s) + " ")
			continue
		}
		buf.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func (s *dockerStage) all(cmd string) []dockerInstr {
	var out []dockerInstr
	for _, in := range s.Instr {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (s *dockerStage) last(cmd string) (dockerInstr, bool) {
	all := s.all(cmd)
	if len(all) == 0 {
		return dockerInstr{}, false
	}
	return all[len(all)-1], true
}

// jsonArgs decodes an exec-form argument list (["a", "b"]).
func jsonArgs(s string) ([]string, error) {
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("%s: want the JSON (exec) form: %w", s, err)
	}
	return out, nil
}

// envOf collects a stage's ENV instructions (KEY=VALUE pairs).
func envOf(t *testing.T, s *dockerStage) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, in := range s.all("ENV") {
		for _, kv := range strings.Fields(in.Args) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Errorf("line %d: ENV %q: use the KEY=VALUE form", in.Line, in.Args)
				continue
			}
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

func flagValue(flags []string, name string) string {
	for _, f := range flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, "Dockerfile")
	if len(stages) < 2 {
		t.Fatalf("%d stages: want a builder stage and a runtime stage", len(stages))
	}
	// The builder is the Go stage named build (a web stage that builds the
	// UI may come first); the runtime stage is the last.
	build, final := stages[0], stages[len(stages)-1]
	for _, st := range stages {
		if st.Name == "build" {
			build = st
		}
	}

	t.Run("builder", func(t *testing.T) {
		m := regexp.MustCompile(`^(?:docker\.io/)?(?:library/)?golang:(1\.\d+)(\.\d+)?(?:-[a-z0-9.]+)?(?:@sha256:[0-9a-f]+)?$`).FindStringSubmatch(build.From)
		if m == nil {
			t.Fatalf("builder FROM %q: want golang:1.N", build.From)
		}
		gomod, err := os.ReadFile("go.mod")
		if err != nil {
			t.Fatal(err)
		}
		want := regexp.MustCompile(`(?m)^go (1\.\d+)(\.\d+)?`).FindSubmatch(gomod)
		if want == nil {
			t.Fatal("go.mod has no go directive")
		}
		if m[1] != string(want[1]) {
			t.Errorf("builder %s, but go.mod says go %s%s", build.From, want[1], want[2])
		}
		if build.Name == "" {
			t.Errorf("builder stage has no name (FROM ... AS build)")
		}

		// The whole module is in the context and built from its root.
		copiedRoot := false
		for _, in := range build.all("COPY") {
			if f := strings.Fields(in.Args); len(f) == 2 && f[0] == "." {
				copiedRoot = true
			}
		}
		if !copiedRoot {
			t.Error("builder never copies the module root (COPY . .)")
		}
		var goBuild *dockerInstr
		for _, in := range build.all("RUN") {
			if strings.Contains(in.Args, "go build") {
				goBuild = &in
			}
		}
		if goBuild == nil {
			t.Fatal("builder has no RUN go build")
		}
		cgoOff := strings.Contains(goBuild.Args, "CGO_ENABLED=0 ") || envOf(t, build)["CGO_ENABLED"] == "0"
		if !cgoOff {
			t.Errorf("line %d: %q: want CGO_ENABLED=0 (a static binary for a distroless/alpine base)", goBuild.Line, goBuild.Args)
		}
		cmdline, _, _ := strings.Cut(goBuild.Args[strings.Index(goBuild.Args, "go build"):], "&&")
		args := strings.Fields(cmdline)
		if !slices.Contains(args, "-trimpath") {
			t.Errorf("line %d: go build without -trimpath", goBuild.Line)
		}
		if args[len(args)-1] != "." {
			t.Errorf("line %d: go build builds %q: want . (the module root, where package main is)", goBuild.Line, args[len(args)-1])
		}
		out := ""
		if i := slices.Index(args, "-o"); i >= 0 && i+1 < len(args) {
			out = args[i+1]
		}
		if out == "" {
			t.Fatalf("line %d: go build without -o", goBuild.Line)
		}

		// The runtime stage runs what the builder wrote.
		entry, ok := final.last("ENTRYPOINT")
		if !ok {
			t.Fatal("runtime stage has no ENTRYPOINT")
		}
		ep, err := jsonArgs(entry.Args)
		if err != nil {
			t.Fatal(err)
		}
		if len(ep) == 0 || ep[0] != "/neosc" {
			t.Errorf("ENTRYPOINT %q: want [\"/neosc\"]", ep)
		}
		copied := false
		for _, in := range final.all("COPY") {
			f := strings.Fields(in.Args)
			if from := flagValue(in.Flags, "from"); (from == build.Name || from == "0") && len(f) == 2 && f[0] == out && len(ep) > 0 && f[1] == ep[0] {
				copied = true
			}
		}
		if !copied {
			t.Errorf("runtime stage never copies the builder's %s to %v", out, ep)
		}
	})

	t.Run("runtime", func(t *testing.T) {
		if strings.Contains(final.From, "golang") {
			t.Errorf("runtime FROM %q: want a small base (distroless static or alpine)", final.From)
		}
		user, ok := final.last("USER")
		if !ok {
			t.Fatal("runtime stage has no USER: it would run as root")
		}
		name, group, _ := strings.Cut(user.Args, ":")
		for _, s := range []string{name, group} {
			if s == "root" || s == "0" {
				t.Errorf("USER %q: want a non-root user and group", user.Args)
			}
		}
		if name == "" {
			t.Errorf("USER %q: empty", user.Args)
		}
		cmd, ok := final.last("CMD")
		if !ok {
			t.Fatal("runtime stage has no CMD")
		}
		if args, err := jsonArgs(cmd.Args); err != nil || !slices.Equal(args, []string{"serve"}) {
			t.Errorf("CMD %s: want [\"serve\"] (%v)", cmd.Args, err)
		}
		exposed := false
		for _, in := range final.all("EXPOSE") {
			for _, p := range strings.Fields(in.Args) {
				exposed = exposed || p == "8080" || p == "8080/tcp"
			}
		}
		if !exposed {
			t.Error("runtime stage does not EXPOSE 8080")
		}

		// State lives in a volume the non-root user can write.
		vol, ok := final.last("VOLUME")
		if !ok {
			t.Fatal("runtime stage has no VOLUME")
		}
		vols, err := jsonArgs(vol.Args)
		if err != nil {
			vols = strings.Fields(vol.Args)
		}
		if !slices.Contains(vols, "/data") {
			t.Errorf("VOLUME %q: want /data", vol.Args)
		}
		env := envOf(t, final)
		if env["NEOSC_SIGNING_KEY_FILE"] != "/data/signing-key.jwk" {
			t.Errorf("ENV NEOSC_SIGNING_KEY_FILE=%q: want /data/signing-key.jwk", env["NEOSC_SIGNING_KEY_FILE"])
		}
		// Distroless has no shell to chown a directory: /data must come
		// from a COPY owned by the runtime user.
		owned := false
		for _, in := range final.all("COPY") {
			f := strings.Fields(in.Args)
			if len(f) == 2 && path.Clean(f[1]) == "/data" && flagValue(in.Flags, "chown") == user.Args {
				owned = true
			}
		}
		if !owned && !strings.Contains(final.From, "alpine") {
			t.Errorf("/data is not created owned by %s (COPY --chown=%s ... /data)", user.Args, user.Args)
		}
		read := map[string]bool{}
		if _, err := config.Load(func(k string) string { read[k] = true; return env[k] }, false); err != nil {
			t.Errorf("config.Load refuses the image's ENV: %v", err)
		}
		for k := range env {
			if strings.HasPrefix(k, "NEOSC_") && !read[k] {
				t.Errorf("ENV %s is never read by config.Load", k)
			}
		}
	})

	t.Run("dockerignore", func(t *testing.T) {
		raw, err := os.ReadFile(".dockerignore")
		if err != nil {
			t.Fatal(err)
		}
		var patterns []string
		for _, l := range strings.Split(string(raw), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				patterns = append(patterns, strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/"))
			}
		}
		for _, want := range []string{"bin", "data", ".git"} {
			if !slices.Contains(patterns, want) {
				t.Errorf(".dockerignore %q: want %s excluded", patterns, want)
			}
		}
		// What the build needs must stay in the context.
		for _, need := range []string{"go.mod", "go.sum", "server.go", "migrations", "migrations/mysql/00001_initial.sql", "internal", "Dockerfile"} {
			for _, p := range patterns {
				if ok, err := path.Match(p, need); err != nil || ok || strings.HasPrefix(need, p+"/") {
					t.Errorf(".dockerignore pattern %q excludes %s, which the build needs (%v)", p, need, err)
				}
			}
		}
	})
}

// Guards against the parser quietly finding nothing: a sample with every
// feature the checks rely on.
func TestParseDockerfileSample(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "Dockerfile")
	sample := "# syntax=docker/dockerfile:1\nFROM golang:1.26 AS b\nRUN CGO_ENABLED=0 \\\n  # a comment\n  go build -o /x .\nFROM scratch\nCOPY --from=b --chown=1:1 /x /x\nUSER 1:1\n"
	if err := os.WriteFile(name, []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	st := parseDockerfile(t, name)
	if len(st) != 2 || st[0].Name != "b" || st[1].From != "scratch" {
		t.Fatalf("stages %+v", st)
	}
	run, ok := st[0].last("RUN")
	if !ok || run.Args != "CGO_ENABLED=0 go build -o /x ." || run.Line != 3 {
		t.Errorf("RUN %+v", run)
	}
	cp, _ := st[1].last("COPY")
	if flagValue(cp.Flags, "from") != "b" || flagValue(cp.Flags, "chown") != "1:1" || cp.Args != "/x /x" {
		t.Errorf("COPY %+v", cp)
	}
	if _, err := jsonArgs(`serve`); err == nil {
		t.Error("jsonArgs accepted the shell form")
	}
}

// TestComposeServiceHealthcheck: the service's healthcheck runs the image's
// own binary (distroless has no shell or curl) with a subcommand it has.
func TestComposeServiceHealthcheck(t *testing.T) {
	f := loadCompose(t)
	svc, ok := f.Services["neosc"]
	if !ok || svc.Healthcheck == nil {
		t.Fatal("neosc service has no healthcheck")
	}
	want := []string{"CMD", "/neosc", "healthcheck"}
	if strings.Join(svc.Healthcheck.Test, " ") != strings.Join(want, " ") {
		t.Fatalf("healthcheck %q, want %q", svc.Healthcheck.Test, want)
	}
	if !strings.Contains(usage, "neosc healthcheck") {
		t.Error("the binary has no healthcheck command")
	}
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil || !strings.Contains(string(dockerfile), `ENTRYPOINT ["/neosc"]`) {
		t.Errorf("the Dockerfile's entrypoint is not /neosc (%v)", err)
	}
}

// TestDockerfileBuildsTheUI: the image serves the console and GraphiQL, not
// the not-built page: a Node stage installs the pinned packages (npm ci, the
// lock file) and runs web/build.mjs, and the Go builder copies its web/dist
// over the context's before go build embeds it.
func TestDockerfileBuildsTheUI(t *testing.T) {
	stages := parseDockerfile(t, "Dockerfile")
	var web, build *dockerStage
	for i, st := range stages {
		if strings.HasPrefix(st.From, "node:") {
			web = st
			for _, later := range stages[i+1:] {
				if later.Name == "build" {
					build = later
				}
			}
		}
	}
	if web == nil || web.Name == "" || build == nil {
		t.Fatalf("want a named node:N stage before the Go stage named build; stages %+v", stages)
	}
	runs := ""
	for _, in := range web.all("RUN") {
		runs += in.Args + "\n"
	}
	if !strings.Contains(runs, "npm ci") || !strings.Contains(runs, "node build.mjs") {
		t.Errorf("the %s stage runs %q: want npm ci and node build.mjs", web.Name, runs)
	}
	copied, built := -1, -1
	for i, in := range build.Instr {
		if in.Cmd == "COPY" && slices.Contains(in.Flags, "--from="+web.Name) && strings.HasSuffix(strings.TrimSpace(in.Args), "web/dist") {
			copied = i
		}
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			built = i
		}
	}
	if copied < 0 || built < copied {
		t.Errorf("the build stage must COPY --from=%s …/dist ./web/dist before go build (copy at %d, build at %d)", web.Name, copied, built)
	}
	ignore, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ignore), "web/node_modules") {
		t.Error(".dockerignore should keep the host's web/node_modules out of the context")
	}
}
