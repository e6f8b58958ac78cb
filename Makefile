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

install: $(STAMP)
install-test: $(TSTAMP)

run: $(STAMP)
	$(BIN)/matching run

test: $(TSTAMP)
	$(BIN)/ruff check matching api worldgen tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Everything but the tests marked slow (subprocess servers, SIGKILL, the Schemathesis run).
test-fast: $(TSTAMP)
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
