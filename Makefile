# Two commands: `make run` (set-up + load fixtures + refresh + serve) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
BSTAMP := $(VENV)/.installed-bench

.PHONY: run test test-fast lint install install-test serve clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP)

$(BSTAMP): pyproject.toml $(TSTAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $@

# The browser tests (tests/test_workbench_browser.py) drive Debian's chromium; installed here
# from the Debian archive when missing (never `playwright install`).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "the browser tests need Debian's chromium: sudo apt-get install -y chromium" >&2; exit 1; fi

install: $(STAMP)
install-test: $(TSTAMP) $(CHROMIUM)

run: $(STAMP)
	$(BIN)/matching run

test: $(TSTAMP) $(CHROMIUM)
	$(BIN)/ruff check matching api worldgen tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Everything but the tests marked slow (subprocess servers, SIGKILL, the Schemathesis run).
test-fast: $(TSTAMP) $(CHROMIUM)
	$(BIN)/ruff check matching api worldgen tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(TSTAMP)
	$(BIN)/ruff check matching api worldgen tests benchmarks tools
	$(BIN)/mypy

bench: $(BSTAMP)
	$(BIN)/python benchmarks/refresh.py --participants 2000 --openings 800 --jobs 2

clean:
	rm -rf $(VENV) var
