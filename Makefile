# medveil: the two commands of the README live here.
#   make run   - create .venv, install, de-identify the bundled sample images into ./demo-out
#   make test  - create .venv with test extras, install system test peers, lint, type-check, test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOME_DIR ?= $(CURDIR)/.medveil-demo

.PHONY: run test lint typecheck pytest sysdeps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[samples]"
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.run-installed

# Byte-compile medveil as a regular install would: an editable install leaves that to the
# first import, which cannot write it where PYTHONDONTWRITEBYTECODE is set (0.15 s a start).
run: $(VENV)/.run-installed
	$(BIN)/python -m compileall -q src
	MEDVEIL_HOME=$(HOME_DIR) $(BIN)/medveil demo --out demo-out

sysdeps:
	bash scripts/install-system-deps.sh

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

pytest: $(VENV)/.test-installed sysdeps
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(VENV)/.test-installed sysdeps
	bash benchmarks/run_all.sh

clean:
	rm -rf $(VENV) demo-out .medveil-demo .pytest_cache .mypy_cache .ruff_cache
