# Local development of the enrolment drives. Everything runs from the repository root;
# services and their data live in .dev/, tools in .tools/, binaries in bin/ (all git-ignored).
#
#   make demo     start Temporal + PostgreSQL + the worker, run the Hà Nội 2021 demo drive
#                 (with DRIVES_CODEC_KEYS set: payloads encrypted, and a codec server for the Web UI)
#   make stop     stop what make up / make worker-start / make codec-start / make web-start started (data in .dev/ is kept)
#   make key      print a fresh DRIVES_CODEC_KEYS entry (KEY_ID=k2 for a second key)
#   make test     run all tests (they start their own private servers)
#   make fuzz     run every fuzz target in turn, FUZZTIME each (default 30s)
#   make clean    stop and remove .dev/ and bin/

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TEMPORAL_CLI_VERSION := v1.5.1
TEMPORAL_BIN := $(CURDIR)/.tools/bin/temporal
# devstack and the tests find the CLI through TEMPORAL_CLI; an explicit one wins.
TEMPORAL_CLI ?= $(TEMPORAL_BIN)
export TEMPORAL_CLI

PLAN ?= plans/hanoi-2021/plan.yaml
SIM  ?= plans/hanoi-2021/field-sim.yaml

# Payload encryption: DRIVES_CODEC_KEYS (from the environment) encrypts; the codec server for
# the Web UI listens on DRIVES_CODEC_ADDR, and devstack points the UI at it.
DRIVES_CODEC_ADDR ?= 127.0.0.1:8081
export DRIVES_CODEC_ADDR
KEY_ID ?= k1

# The key IDs of DRIVES_CODEC_KEYS ("none" without keys): what a running worker was started with.
CODEC_IDS = codec_ids=$$(printf '%s' "$${DRIVES_CODEC_KEYS:-}" | tr ',' '\n' | sed -e 's/:.*//' -e 's/[[:space:]]//g' | grep -v '^$$' | paste -sd, - || true); codec_ids=$${codec_ids:-none}

.PHONY: help tools up status worker-start worker-stop codec-start web-start key demo stop test fuzz vet bench clean
.PHONY: temporal-server-tools temporal-pg-up temporal-pg-status temporal-pg-down temporal-pg-clean

help:
	@echo "targets: tools up status worker-start worker-stop codec-start web-start key demo stop test fuzz vet bench clean"
	@echo "  make demo   # start everything and run the Hà Nội 2021 demo drive; make stop afterwards"
	@echo "  make key    # a fresh key: export DRIVES_CODEC_KEYS=\$$(make -s key) encrypts the payloads"

# The pinned Temporal CLI (later releases cannot be built with go install).
tools: $(TEMPORAL_BIN)

$(TEMPORAL_BIN):
	GOBIN=$(CURDIR)/.tools/bin go install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

# Temporal dev server (ports TEMPORAL_PORT/TEMPORAL_UI_PORT, default 7233/8233) and a private
# PostgreSQL in .dev/pgdata unless DATABASE_URL is set; reuses them when already running.
up: tools
	go run ./cmd/devstack up

status:
	@go run ./cmd/devstack status

# The worker in the background with the environment of .dev/env; left alone if it already runs.
# A running worker is kept only if it has the key IDs of DRIVES_CODEC_KEYS (.dev/worker.codec).
worker-start: up
	@mkdir -p bin .dev
	@pid=$$(cat .dev/worker.pid 2>/dev/null || true); \
	$(CODEC_IDS); \
	if [[ -n "$$pid" ]] && kill -0 "$$pid" 2>/dev/null && ps -p "$$pid" -o command= | grep -q worker; then \
		running=$$(cat .dev/worker.codec 2>/dev/null || echo none); \
		if [[ "$$running" != "$$codec_ids" ]]; then \
			echo "worker: the running worker (pid $$pid) has codec keys: $$running; DRIVES_CODEC_KEYS has: $$codec_ids." >&2; \
			echo "worker: it could not read what is encrypted now: run 'make worker-stop' (or 'make stop') and start again" >&2; \
			exit 1; \
		fi; \
		echo "worker: already running (pid $$pid), log .dev/worker.log"; \
		exit 0; \
	fi; \
	go build -o bin/worker ./worker; \
	. .dev/env; \
	detach=""; if command -v setsid >/dev/null; then detach=setsid; fi; \
	echo "=== worker started $$(date -u +%FT%TZ)" >> .dev/worker.log; \
	nohup $$detach bin/worker >> .dev/worker.log 2>&1 < /dev/null & \
	pid=$$!; echo "$$pid" > .dev/worker.pid; echo "$$codec_ids" > .dev/worker.codec; \
	sleep 2; \
	if ! kill -0 "$$pid" 2>/dev/null; then \
		echo "worker: exited right after start; end of .dev/worker.log:" >&2; \
		tail -n 30 .dev/worker.log >&2; rm -f .dev/worker.pid; exit 1; \
	fi; \
	echo "worker: started (pid $$pid), log .dev/worker.log"

worker-stop:
	@pid=$$(cat .dev/worker.pid 2>/dev/null || true); \
	if [[ -n "$$pid" ]] && kill -0 "$$pid" 2>/dev/null && ps -p "$$pid" -o command= | grep -q worker; then \
		kill "$$pid"; for i in $$(seq 100); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.1; done; \
		if kill -0 "$$pid" 2>/dev/null; then kill -9 "$$pid"; fi; \
		echo "worker: stopped (pid $$pid)"; \
	else echo "worker: not running"; fi; \
	rm -f .dev/worker.pid .dev/worker.codec

# The codec server for the Web UI (`starter codec-server`), when DRIVES_CODEC_KEYS is set:
# restarted each time so that it has the current keys. Its bearer token is DRIVES_CODEC_TOKEN,
# else .dev/codec-token (made once, readable by you alone). `make stop` stops it.
codec-start: up
	@if [[ -z "$${DRIVES_CODEC_KEYS:-}" ]]; then exit 0; fi; \
	mkdir -p bin .dev; \
	go build -o bin/starter ./starter; \
	pid=$$(cat .dev/codec.pid 2>/dev/null || true); \
	if [[ -n "$$pid" ]] && kill -0 "$$pid" 2>/dev/null && ps -p "$$pid" -o command= | grep -q codec-server; then \
		kill "$$pid"; for i in $$(seq 50); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.1; done; \
		if kill -0 "$$pid" 2>/dev/null; then kill -9 "$$pid"; fi; \
	fi; \
	rm -f .dev/codec.pid; \
	tokenflag=""; token_hint="DRIVES_CODEC_TOKEN"; \
	if [[ -z "$${DRIVES_CODEC_TOKEN:-}" ]]; then \
		if [[ ! -s .dev/codec-token ]]; then \
			(umask 077; head -c 32 /dev/urandom | base64 | tr -d '\n/+=' > .dev/codec-token); \
		fi; \
		tokenflag="--token-file .dev/codec-token"; token_hint="the token in .dev/codec-token"; \
	fi; \
	. .dev/env; \
	detach=""; if command -v setsid >/dev/null; then detach=setsid; fi; \
	echo "=== codec server started $$(date -u +%FT%TZ)" >> .dev/codec.log; \
	nohup $$detach bin/starter codec-server --addr "$$DRIVES_CODEC_ADDR" $$tokenflag >> .dev/codec.log 2>&1 < /dev/null & \
	pid=$$!; echo "$$pid" > .dev/codec.pid; \
	sleep 1; \
	if ! kill -0 "$$pid" 2>/dev/null; then \
		echo "codec server: exited right after start; end of .dev/codec.log:" >&2; \
		tail -n 20 .dev/codec.log >&2; rm -f .dev/codec.pid; exit 1; \
	fi; \
	echo "codec server: started (pid $$pid) on http://$$DRIVES_CODEC_ADDR for the Web UI $$TEMPORAL_UI, log .dev/codec.log"; \
	echo "codec server: a browser signs in once at http://$$DRIVES_CODEC_ADDR/login with $$token_hint"

# The web page (`starter serve`) on WEB_ADDR, restarted each time. Its users are in
# .dev/web-users.yaml, made once: a coordinator and an auditor, whose passwords and API tokens
# are in .dev/web-passwords (readable by you alone). `make stop` stops it.
WEB_ADDR ?= 127.0.0.1:8080
web-start: up
	@mkdir -p bin .dev; \
	go build -o bin/starter ./starter; \
	if [[ ! -s .dev/web-users.yaml ]]; then \
		(umask 077; rm -f .dev/web-passwords; \
		 bin/starter serve user --users .dev/web-users.yaml --name coordinator --role coordinator >> .dev/web-passwords; \
		 bin/starter serve user --users .dev/web-users.yaml --name auditor --role auditor >> .dev/web-passwords); \
	fi; \
	pid=$$(cat .dev/web.pid 2>/dev/null || true); \
	if [[ -n "$$pid" ]] && kill -0 "$$pid" 2>/dev/null && ps -p "$$pid" -o command= | grep -q -- 'serve --addr'; then \
		kill "$$pid"; for i in $$(seq 50); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.1; done; \
		if kill -0 "$$pid" 2>/dev/null; then kill -9 "$$pid"; fi; \
	fi; \
	rm -f .dev/web.pid; \
	. .dev/env; \
	detach=""; if command -v setsid >/dev/null; then detach=setsid; fi; \
	echo "=== web started $$(date -u +%FT%TZ)" >> .dev/web.log; \
	nohup $$detach bin/starter serve --addr "$(WEB_ADDR)" --users .dev/web-users.yaml >> .dev/web.log 2>&1 < /dev/null & \
	pid=$$!; echo "$$pid" > .dev/web.pid; \
	sleep 1; \
	if ! kill -0 "$$pid" 2>/dev/null; then \
		echo "web: exited right after start; end of .dev/web.log:" >&2; \
		tail -n 20 .dev/web.log >&2; rm -f .dev/web.pid; exit 1; \
	fi; \
	echo "web: started (pid $$pid) on http://$(WEB_ADDR), log .dev/web.log"

# A fresh key for DRIVES_CODEC_KEYS: 32 random bytes, base64, under the ID KEY_ID (k1).
key:
	@printf '%s:%s\n' "$(KEY_ID)" "$$(head -c 32 /dev/urandom | base64 | tr -d '\n')"

demo: worker-start codec-start web-start
	. .dev/env && go run ./starter demo --plan $(PLAN) --sim $(SIM)
	@. .dev/env && echo && echo "Temporal Web UI: $$TEMPORAL_UI/namespaces/$$TEMPORAL_NAMESPACE/workflows"
	@echo "Web page: http://$(WEB_ADDR)/campaigns/hanoi-2021 — sign in as 'coordinator' (acts) or 'auditor' (reads)"
	@echo "with the passwords in .dev/web-passwords (cat .dev/web-passwords)"
	@if [[ -n "$${DRIVES_CODEC_KEYS:-}" ]]; then \
		echo "Payloads are encrypted. To read them in the Web UI, sign in at http://$$DRIVES_CODEC_ADDR/login"; \
		echo "(token: .dev/codec-token, or your DRIVES_CODEC_TOKEN), then in the UI's Codec Server settings enter"; \
		echo "http://$$DRIVES_CODEC_ADDR and tick 'Include cross-origin credentials' and 'Use my browser setting'."; \
	fi
	@echo "When done: make stop"

stop:
	go run ./cmd/devstack down

test: tools browser-deps
	go test -count=1 -timeout 30m ./...

# What the browser tests need: Debian's chromium and chromium-driver (installed with apt-get
# when missing, as root), and the npm packages of web/e2e (playwright-core, which drives that
# Chromium: no browser download). Where they cannot be installed it says why and the browser
# tests skip, saying so too; with CI set they fail instead.
BROWSER_PKG := web/e2e
.PHONY: browser-deps
browser-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [[ -n "$$missing" ]]; then \
		if [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then \
			echo "browser-deps: installing$$missing (Debian packages)"; \
			log=$$(mktemp); \
			if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
				DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } >"$$log" 2>&1; then \
				tail -n 20 "$$log" >&2; echo "browser-deps: could not install$$missing: the browser tests will skip (and fail where CI is set)" >&2; \
			fi; \
			rm -f "$$log"; \
		else \
			echo "browser-deps:$$missing missing and cannot be installed here (needs root and apt-get): the browser tests will skip (and fail where CI is set)" >&2; \
		fi; \
	fi; \
	if ! command -v npm >/dev/null || ! command -v node >/dev/null; then \
		echo "browser-deps: node and npm (Node.js 20 or later) not found: the browser tests will skip (and fail where CI is set)" >&2; \
	elif [[ ! $(BROWSER_PKG)/node_modules/.package-lock.json -nt $(BROWSER_PKG)/package-lock.json ]]; then \
		echo "browser-deps: npm ci in $(BROWSER_PKG)"; \
		(cd $(BROWSER_PKG) && npm ci --no-audit --no-fund --loglevel=error) || \
			echo "browser-deps: npm ci failed in $(BROWSER_PKG): the browser tests will skip (and fail where CI is set)" >&2; \
	fi

# The benchmark table of BENCHMARKS.md, on servers of its own (about 15 minutes on 2 cores):
# BENCH_FLAGS="-only a,b" measures some of it; see go run ./cmd/bench -h.
BENCH_FLAGS ?=
bench: tools
	go run ./cmd/bench $(BENCH_FLAGS)

# Every fuzz target of FUZZ_PKGS in turn (go test -fuzz takes one target at a time), each for
# FUZZTIME with FUZZPARALLEL workers. A failing input is written to the package's
# testdata/fuzz/<target>/, where every `go test` runs it from then on; make fuzz fails if any
# target wrote one. Go 1.26's fuzzer may end a run with a bare "context deadline exceeded"
# and no input written (golang/go#75804, a race at the end of -fuzztime): that is reported,
# not failed.
FUZZTIME ?= 30s
FUZZPARALLEL ?= 1
# How long a new input is minimized (Go's default, 60s, leaves the multi-file plan target
# minimizing most of a short run).
FUZZMINIMIZETIME ?= 5s
FUZZ_PKGS ?= ./plan ./imports
fuzz:
	@failed=""; \
	for pkg in $(FUZZ_PKGS); do \
		for name in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "=== $$name ($$pkg) for $(FUZZTIME)"; \
			before=$$(ls $$pkg/testdata/fuzz/$$name 2>/dev/null | wc -l); \
			if ! go test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) -parallel $(FUZZPARALLEL); then \
				if [[ $$(ls $$pkg/testdata/fuzz/$$name 2>/dev/null | wc -l) -gt $$before ]]; then \
					failed="$$failed $$name"; \
				else \
					echo "=== $$name: stopped without a failing input (golang/go#75804); not a finding"; \
				fi; \
			fi; \
		done; \
	done; \
	if [[ -n "$$failed" ]]; then echo "fuzz: failing inputs written by:$$failed" >&2; exit 1; fi

# go vet, and workflowcheck (pinned in go.mod as a tool) over the workflow code.
vet:
	go vet ./...
	go tool workflowcheck ./workflows/...

clean: stop
	rm -rf .dev bin

# A Temporal server of our own on PostgreSQL instead of the dev server (docs/temporal-postgres.md):
# the server and temporal-sql-tool of TEMPORAL_SERVER_VERSION (the server the pinned CLI embeds)
# built into .tools-server/bin, a private PostgreSQL and the server's state in .dev/temporal-pg/.
TEMPORAL_SERVER_VERSION := v1.29.1
TEMPORAL_SERVER_BIN := $(CURDIR)/.tools-server/bin
TEMPORAL_SERVER_STAMP := $(CURDIR)/.tools-server/$(TEMPORAL_SERVER_VERSION).built

temporal-server-tools: $(TEMPORAL_SERVER_STAMP)

$(TEMPORAL_SERVER_STAMP):
	mkdir -p $(TEMPORAL_SERVER_BIN)
	GOTOOLCHAIN=local GOBIN=$(TEMPORAL_SERVER_BIN) go install \
		go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION) \
		go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
	mv -f $(TEMPORAL_SERVER_BIN)/server $(TEMPORAL_SERVER_BIN)/temporal-server
	mv -f $(TEMPORAL_SERVER_BIN)/sql $(TEMPORAL_SERVER_BIN)/temporal-sql-tool
	rm -f $(CURDIR)/.tools-server/*.built && touch $@

temporal-pg-up: tools temporal-server-tools
	TEMPORAL_SERVER=$(TEMPORAL_SERVER_BIN)/temporal-server TEMPORAL_SQL_TOOL=$(TEMPORAL_SERVER_BIN)/temporal-sql-tool \
		go run ./cmd/temporal-pg up

temporal-pg-status:
	@go run ./cmd/temporal-pg status

temporal-pg-down:
	go run ./cmd/temporal-pg down

temporal-pg-clean: temporal-pg-down
	rm -rf .dev/temporal-pg

# Fault drills: campaigns on a compressed clock while the worker is killed, PostgreSQL crashed
# and the Temporal dev server restarted, twenty rounds; then nothing lost or doubled, audit =
# effects, reports = the inputs' figures. DRILL_FLAGS passes flags (-seed N to replay a run).
DRILL_FLAGS ?=
.PHONY: drills
drills: tools
	go run ./cmd/drill $(DRILL_FLAGS)
