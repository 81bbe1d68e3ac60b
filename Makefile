# Local development of the enrolment drives. Everything runs from the repository root;
# services and their data live in .dev/, tools in .tools/, binaries in bin/ (all git-ignored).
#
#   make demo     start Temporal + PostgreSQL + the worker, run the Hà Nội 2021 demo drive
#   make stop     stop what make up / make worker-start started (data in .dev/ is kept)
#   make test     run all tests (they start their own private servers)
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

.PHONY: help tools up status worker-start worker-stop demo stop test vet clean

help:
	@echo "targets: tools up status worker-start worker-stop demo stop test vet clean"
	@echo "  make demo   # start everything and run the Hà Nội 2021 demo drive; make stop afterwards"

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
worker-start: up
	@mkdir -p bin .dev
	@pid=$$(cat .dev/worker.pid 2>/dev/null || true); \
	if [[ -n "$$pid" ]] && kill -0 "$$pid" 2>/dev/null && ps -p "$$pid" -o command= | grep -q worker; then \
		echo "worker: already running (pid $$pid), log .dev/worker.log"; \
		exit 0; \
	fi; \
	go build -o bin/worker ./worker; \
	. .dev/env; \
	detach=""; if command -v setsid >/dev/null; then detach=setsid; fi; \
	echo "=== worker started $$(date -u +%FT%TZ)" >> .dev/worker.log; \
	nohup $$detach bin/worker >> .dev/worker.log 2>&1 < /dev/null & \
	pid=$$!; echo "$$pid" > .dev/worker.pid; \
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
	rm -f .dev/worker.pid

demo: worker-start
	. .dev/env && go run ./starter demo --plan $(PLAN) --sim $(SIM)
	@. .dev/env && echo && echo "Temporal Web UI: $$TEMPORAL_UI/namespaces/$$TEMPORAL_NAMESPACE/workflows"
	@echo "When done: make stop"

stop:
	go run ./cmd/devstack down

test: tools
	go test -count=1 -timeout 30m ./...

# go vet, and workflowcheck (pinned in go.mod as a tool) over the workflow code.
vet:
	go vet ./...
	go tool workflowcheck ./workflows/...

clean: stop
	rm -rf .dev bin
