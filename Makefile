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

WEB_ADDR ?= 127.0.0.1:8080
export WEB_ADDR PLAN SIM
# Processes are started, checked and stopped by cmd/devstack (go run ./cmd/devstack help).
DEVSTACK := go run ./cmd/devstack

.PHONY: help tools up status worker-start worker-stop codec-start web-start key demo stop test fuzz vet bench clean browser-deps
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
	$(DEVSTACK) up

status:
	@$(DEVSTACK) status

# The worker in the background with the environment of .dev/env (log .dev/worker.log); kept if
# it already runs with the key IDs of DRIVES_CODEC_KEYS.
worker-start: tools
	@$(DEVSTACK) worker-start

worker-stop:
	@$(DEVSTACK) worker-stop

# The codec server for the Web UI when DRIVES_CODEC_KEYS is set, restarted with the current keys;
# its bearer token is DRIVES_CODEC_TOKEN, else .dev/codec-token (made once, yours alone).
codec-start: tools
	@$(DEVSTACK) codec-start

# The web page on WEB_ADDR, restarted each time; users in .dev/web-users.yaml (made once), a
# coordinator's and an auditor's passwords and API tokens in .dev/web-passwords.
web-start: tools
	@$(DEVSTACK) web-start

# A fresh key for DRIVES_CODEC_KEYS: 32 random bytes, base64, under the ID KEY_ID (k1).
key:
	@printf '%s:%s\n' "$(KEY_ID)" "$$(head -c 32 /dev/urandom | base64 | tr -d '\n')"

# Everything above, then the demo drive; a failure stops what this run started and says why.
demo: tools
	@$(DEVSTACK) demo

stop:
	$(DEVSTACK) stop

test: tools browser-deps
	go test -count=1 -timeout 30m ./...

# What the browser tests need: Debian's chromium and chromium-driver (apt-get, as root) and the
# npm packages of web/e2e; what cannot be installed is said, and the browser tests skip
# (with CI set they fail instead).
browser-deps:
	@$(DEVSTACK) browser-deps

# The benchmark table of BENCHMARKS.md, on servers of its own (about 15 minutes on 2 cores):
# BENCH_FLAGS="-only a,b" measures some of it; see go run ./cmd/bench -h.
BENCH_FLAGS ?=
bench: tools
	go run ./cmd/bench $(BENCH_FLAGS)

# Every fuzz target of FUZZ_PKGS in turn, each for FUZZTIME with FUZZPARALLEL workers; a failing
# input is written to the package's testdata/fuzz/<target>/ and fails it (golang/go#75804's
# bare "context deadline exceeded" without an input is reported, not failed).
FUZZTIME ?= 30s
FUZZPARALLEL ?= 1
FUZZMINIMIZETIME ?= 5s
FUZZ_PKGS ?= ./plan ./imports
export FUZZTIME FUZZPARALLEL FUZZMINIMIZETIME FUZZ_PKGS
fuzz:
	@$(DEVSTACK) fuzz

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
