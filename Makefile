# Two commands: `make run` serves the dashboard, `make test` runs every test (`make dev`: Reflex's
# dev server with hot reload). All do their own set-up on a fresh machine and skip what is already done.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# A copy of the requirements last installed: compared by content, because Reflex touches
# requirements.txt whenever it initialises a web dir.
REQUIREMENTS_STAMP := $(VENV)/.installed-requirements.txt
BUN_VERSION := 1.4.4
BUN := tools/node_modules/.bin/bun
SWAGGER_UI_VERSION := 5.35.0
SWAGGER_UI := tools/node_modules/swagger-ui-dist/swagger-ui-bundle.js
AXE_VERSION := 4.14.1
AXE := tools/node_modules/axe-core/axe.min.js
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

HOST ?= 127.0.0.1
PORT ?= 3000
WINDTUNNEL_RUNS_DIR ?= runs
DEMO ?= 1
DEV_BACKEND_PORT ?= 8000

# A per-test limit that catches hangs: the first API and e2e tests also pay for their server's first build.
PYTEST := $(PY) -m pytest -q -ra --timeout=600

.PHONY: run dev cluster test lint setup venv browser

# The default runs root is made on first use; a root the user names is only ever read.
run: setup
	@[ "$(WINDTUNNEL_RUNS_DIR)" != runs ] || mkdir -p runs
	HOST=$(HOST) PORT=$(PORT) WINDTUNNEL_RUNS_DIR=$(WINDTUNNEL_RUNS_DIR) DEMO=$(DEMO) $(PY) scripts/serve.py

# Plain `reflex run` as in an activated venv (rxconfig finds tools/'s bun): pages on PORT with hot
# reload, the backend (socket, REST API, /docs) on DEV_BACKEND_PORT.
dev: setup
	@[ "$(WINDTUNNEL_RUNS_DIR)" != runs ] || mkdir -p runs
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" WINDTUNNEL_RUNS_DIR=$(WINDTUNNEL_RUNS_DIR) DEMO=$(DEMO) \
		reflex run --frontend-port $(PORT) --backend-port $(DEV_BACKEND_PORT) --backend-host $(HOST)

# A local cluster: PostgreSQL and redis-server (Debian's, installed when missing) on free loopback ports,
# then the app with the Postgres catalog and Redis state (several workers on PORT). Ctrl-C stops it all.
cluster: setup
	@[ "$(WINDTUNNEL_RUNS_DIR)" != runs ] || mkdir -p runs
	HOST=$(HOST) PORT=$(PORT) WINDTUNNEL_RUNS_DIR=$(WINDTUNNEL_RUNS_DIR) DEMO=$(DEMO) $(PY) scripts/cluster.py

# Three tiers, all always run: lint (the fastest), everything but e2e, then e2e. pytest exits 5 when a
# tier collected no tests: say so instead of failing.
test: setup browser
	@failed=0; \
	$(MAKE) --no-print-directory lint || failed=1; \
	tier() { $(PYTEST) "$$@" && return; rc=$$?; \
		[ $$rc -eq 5 ] && { echo "(no tests collected: $$*)"; return; }; failed=1; }; \
	tier tests --ignore=tests/e2e; \
	tier tests/e2e; \
	exit $$failed

# ruff (import order included) on all our Python, mypy on the app's code; settings in pyproject.toml. Both always
# run, so one report shows everything to fix.
lint: venv
	@failed=0; \
	$(PY) -m ruff check windtunnel_dash tests bench scripts rxconfig.py || failed=1; \
	$(PY) -m mypy || failed=1; \
	exit $$failed

setup: venv $(BUN) $(SWAGGER_UI) $(AXE)

venv:
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	@cmp -s requirements.txt $(REQUIREMENTS_STAMP) || { \
		$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt && cp requirements.txt $(REQUIREMENTS_STAMP); }

$(BUN):
	npm install --prefix tools --save-exact --no-audit --no-fund bun@$(BUN_VERSION)

# Swagger UI's files, served by the app itself so /docs works offline (windtunnel_dash/api/docs.py).
# --ignore-scripts: the one install script in its tree only reports usage.
$(SWAGGER_UI):
	npm install --prefix tools --save-exact --no-audit --no-fund --ignore-scripts swagger-ui-dist@$(SWAGGER_UI_VERSION)

# axe-core, the accessibility engine the e2e tests inject into each page (tests/e2e/test_accessibility.py).
$(AXE):
	npm install --prefix tools --save-exact --no-audit --no-fund --ignore-scripts axe-core@$(AXE_VERSION)

# WINDTUNNEL_DASH_BROWSER names a browser executable, or "playwright" for Playwright's own Chromium;
# unset, the tests use Debian's /usr/bin/chromium, installed here when missing.
browser:
	@if [ "$${WINDTUNNEL_DASH_BROWSER:-}" = playwright ]; then \
		$(PY) -m playwright install chromium; \
	elif [ -z "$${WINDTUNNEL_DASH_BROWSER:-}" ] && [ ! -x /usr/bin/chromium ]; then \
		$(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }; \
	fi
