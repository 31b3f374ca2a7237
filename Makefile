# Two commands do all the set-up on a fresh machine with Python 3.11+: `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins many packages of its own, so it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
# local-bigquery (BigQuery's REST API on DuckDB, for the BigQuery adapter's tests) needs
# Python 3.13 (found via pyenv) and pins of its own; the script holds the pins and installs.
BIGQUERY_VENV := .venv-bigquery
BIGQUERY_STAMP := $(BIGQUERY_VENV)/.installed

.PHONY: venv demo serve test lint typecheck unit bench stage security bigquery-server clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: venv
	$(BIN)/python -m attribution.devtools.demo

# The local stack: Pub/Sub and GCS emulators, the three functions, push delivery (Ctrl-C stops it).
serve: venv
	$(BIN)/attribution serve

lint: venv
	$(BIN)/ruff check shared functions tests bench
	$(BIN)/ruff format --check shared functions tests bench

typecheck: venv
	$(BIN)/mypy

test: lint typecheck $(CHECKOV_STAMP) $(BIGQUERY_STAMP)
	$(BIN)/python -m pytest

# build/<function>/: main.py, the attribution modules it imports, schemas/, pinned requirements.
stage: venv
	$(BIN)/python -m attribution.devtools.staging --out build

$(CHECKOV_STAMP):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	@touch $(CHECKOV_STAMP)

bigquery-server: $(BIGQUERY_STAMP)

$(BIGQUERY_STAMP): tests/integration/bigquery_server.py | $(STAMP)
	$(BIN)/python tests/integration/bigquery_server.py install

# Static security scan of infra/terraform (offline); tests/integration/test_security_scan.py too.
security: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --directory infra/terraform --framework terraform --compact --skip-download

unit: venv
	$(BIN)/python -m pytest tests/unit

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(BIGQUERY_VENV) build .attribution .pytest_cache .mypy_cache .ruff_cache
