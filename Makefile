# The README's two commands are `make run` and `make test`.
GO        ?= go
BIN       := bin/neosc
PKGS      := ./...

.PHONY: run build test bench generate check fuzz mail-domains web

# The browser UI (web/): built with npm and esbuild into web/dist, which the
# binary embeds. Rebuilt only when its sources or the lock file changed;
# skipped with a notice when npm is missing (the binary then serves a page
# that says how to build the UI).
NPM       ?= npm
WEB_SRCS  := $(shell find web/src -type f 2>/dev/null) web/build.mjs web/package-lock.json
HAVE_NPM  := $(shell command -v $(NPM) 2>/dev/null)

FUZZTIME ?= 3000x

# Cyclomatic-complexity gate of `make check`: a function over CYCLO_OVER in
# CYCLO_PKGS fails it (test files are not gated). Paths that do not exist yet
# are skipped: internal/authz, where Rules.Field is going, may not be there.
CYCLO_PKGS ?= internal/authz
CYCLO_OVER ?= 15
CYCLO_PATHS = $(wildcard $(CYCLO_PKGS))

## run: build the UI (when its sources changed) and the binary, then start the server on the embedded SQLite database under ./data
# The binary is built in the recipe, after the prerequisite web: it embeds
# web/dist, so it must not be compiled while `make -j` is still building it.
run: web
	$(GO) build -o $(BIN) .
	@mkdir -p -m 700 data
	@echo "NeoSC: console at $${NEOSC_PUBLIC_URL:-http://localhost:8080}/, GraphiQL at /graphiql, GraphQL at /graphql (Ctrl-C stops)"
	./$(BIN) serve

## build: compile the neosc binary into bin/ (with whatever web/dist holds: the UI if built, else the page that says how to build it)
build:
	$(GO) build -o $(BIN) .

## web: install the pinned npm packages and build the UI when its sources changed
ifeq ($(HAVE_NPM),)
web:
	@echo "web: npm not found: the UI is not built (install Node.js 20 and npm, then make web)"
else
web: web/dist/.stamp

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/.stamp: web/node_modules/.package-lock.json $(WEB_SRCS)
	cd web && node build.mjs
endif

## test: the whole suite (SQLite always; MySQL too when NEOSC_TEST_MYSQL_DSN is set; browser tests when Chromium is installed)
test: web
	$(GO) test -count=1 -timeout 20m $(PKGS)

## bench: the service beside the raw baseline (docs/performance.md; MariaDB must run for the MySQL half), then the micro-benchmarks
# The harness (internal/bench) seeds fresh databases (SQLite files in a
# temporary directory; neosc_bench_small/_large on the MySQL server of
# NEOSC_BENCH_MYSQL_DSN, else NEOSC_TEST_MYSQL_DSN, else the local MariaDB as
# root), runs the Go benchmarks of both handlers and a load run of bin/neosc
# and of the baseline, prints the table and writes it into
# docs/performance.md. A quick look: make bench BENCH_FLAGS='-scales small
# -rounds 1 -duration 2s'. Profiles: BENCH_FLAGS='-cpuprofile /tmp/prof'.
# The MySQL server's InnoDB buffer pool is raised to BENCH_MYSQL_BUFFER_POOL
# for the run and put back after it (the large set is ~1.2 GB; MariaDB's
# default pool is 128 MiB); BENCH_MYSQL_BUFFER_POOL= leaves it alone.
BENCH_MYSQL_DSN ?= $(or $(NEOSC_BENCH_MYSQL_DSN),$(NEOSC_TEST_MYSQL_DSN),mysql://root@127.0.0.1:3306/)
BENCH_MYSQL_BUFFER_POOL ?= 2GiB
BENCH_FLAGS     ?=
bench:
	$(GO) build -o $(BIN) .
	$(GO) run ./internal/bench/cmd/neosc-bench -bin $(BIN) -mysql-dsn '$(BENCH_MYSQL_DSN)' -mysql-buffer-pool '$(BENCH_MYSQL_BUFFER_POOL)' \
		-scales small,large -engines sqlite,mysql -rounds 4 -duration 4s -out docs/performance.md $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## generate: regenerate gqlgen code from schema.graphqls
generate:
	$(GO) generate $(PKGS)

## fuzz: the HTTP handler fuzz target for a fixed number of inputs (CI runs it too); FUZZTIME=5m for a timed run
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzGraphQLHandler -fuzztime $(FUZZTIME) ./internal/server

## check: formatting, vet, staticcheck, complexity gate, and generated code up to date
check:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" && exit 1)
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(if $(CYCLO_PATHS),$(GO) tool gocyclo -over $(CYCLO_OVER) -ignore '_test\.go$$' $(CYCLO_PATHS),@echo "gocyclo: skipped (no $(CYCLO_PKGS) yet)")
	$(GO) generate $(PKGS)
	@git diff --exit-code -- graph/ || (echo "go generate changed graph/: commit the generated code" && exit 1)

## mail-domains: refresh internal/domains/public_mail_domains.txt from the npm package free-email-domains (needs npm)
mail-domains:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent free-email-domains@latest >/dev/null && tar xzf free-email-domains-*.tgz) && \
	cp "$$tmp/package/LICENSE.md" internal/domains/public_mail_domains.LICENSE && \
	$(GO) run internal/domains/update_mail_domains.go "$$tmp/package"
