# Two commands do all the set-up on a fresh machine with Python 3.11+: `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench stage clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: venv
	$(BIN)/python -m attribution.demo

lint: venv
	$(BIN)/ruff check shared functions tests bench
	$(BIN)/ruff format --check shared functions tests bench

typecheck: venv
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

unit: venv
	$(BIN)/python -m pytest tests/unit

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build .attribution .pytest_cache .mypy_cache .ruff_cache
