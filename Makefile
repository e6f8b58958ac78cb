# Two commands: `make run` (set-up + load fixtures + refresh + serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
BSTAMP := $(VENV)/.installed-bench

# Installs are pinned by the lock files (pip constraints: only what is installed is pinned),
# so a fresh machine gets the versions the tests last passed with. `make lock` regenerates
# them from pyproject.toml (with uv, installed into the venv for that only).
LOCK   := requirements.lock
TLOCK  := requirements-test.lock

.PHONY: run test test-fast lint format install install-test serve clean bench lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e .
	touch $@

$(TSTAMP): pyproject.toml $(TLOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(TLOCK) -e ".[test]"
	touch $@ $(STAMP)

$(BSTAMP): pyproject.toml $(TLOCK) $(TSTAMP)
	$(BIN)/python -m pip install --quiet -c $(TLOCK) -e ".[test,bench]"
	touch $@

# The browser tests (tests/test_workbench_browser.py) drive Debian's chromium; installed here
# from the Debian archive when missing (never `playwright install`).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "the browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; fi

# The PostgreSQL tests (tests/test_postgres.py) start a throw-away cluster with Debian's server
# binaries; installed here when missing, like chromium.
POSTGRES := /usr/lib/postgresql
$(POSTGRES):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	else echo "the PostgreSQL tests need Debian's postgresql: sudo apt-get install -y postgresql" >&2; exit 1; fi

install: $(STAMP)
install-test: $(TSTAMP) $(CHROMIUM) $(POSTGRES)

run: $(STAMP)
	$(BIN)/matching run

test: $(TSTAMP) $(CHROMIUM) $(POSTGRES)
	$(BIN)/ruff check matching api worldgen tests benchmarks tools
	$(BIN)/ruff format --check matching api worldgen tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Everything but the tests marked slow (subprocess servers, SIGKILL, the Schemathesis run).
test-fast: $(TSTAMP) $(CHROMIUM)
	$(BIN)/ruff check matching api worldgen tests benchmarks tools
	$(BIN)/ruff format --check matching api worldgen tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(TSTAMP)
	$(BIN)/ruff check matching api worldgen tests benchmarks tools
	$(BIN)/ruff format --check matching api worldgen tests benchmarks tools
	$(BIN)/mypy

format: $(TSTAMP)
	$(BIN)/ruff format matching api worldgen tests benchmarks tools

bench: $(BSTAMP)
	$(BIN)/python benchmarks/refresh.py --participants 2000 --openings 800 --jobs 2

# Resolve pyproject.toml's dependencies again (newest versions allowed by it) for every
# platform and Python >= 3.11; commit the result. The runtime lock pins `make run`, the
# test lock every extra (test, bench, scale, postgres); the runtime one takes its versions
# from the test lock, so `make run` then `make test` never changes an installed version.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --all-extras --no-header --quiet -o $(TLOCK)
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 -c $(TLOCK) --no-header --quiet -o $(LOCK)

clean:
	rm -rf $(VENV) var
