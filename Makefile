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

.PHONY: venv demo serve test lint typecheck unit bench stage security bigquery-server prerequisites clean

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

# Prerequisites a package manager can install (README.md, "Prerequisites"), with apt-get
# (Debian, Ubuntu), and only when missing: a Java runtime for the Pub/Sub emulator, Chromium
# for the HTML report's browser test, and Python 3.13 for local-bigquery where the package
# lists have it (Debian 13). The rest is
# installed by hand; this target names what is still missing and goes on.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_INSTALL = $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends
# The Pub/Sub emulator as attribution.devtools.local_stack.emulators finds it.
PUBSUB_EMULATOR_PACKAGE := google-cloud-cli-pubsub-emulator
PUBSUB_EMULATOR_LAUNCHER := /usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator
# The browser the HTML report's test drives (tests/integration/browser.py looks here first).
CHROMIUM ?= /usr/bin/chromium
# Where tests/integration/bigquery_server.py looks for a Python 3.13.
HAS_PYTHON313 = for p in "$${PYTHON313:-}" "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.13*/bin/python python3.13 python3; do \
	[ -n "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && exit 0; \
	done; exit 1

prerequisites:
	@if command -v java >/dev/null 2>&1 || [ -n "$${JAVA_HOME:-}" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "prerequisites: installing Debian's default-jre-headless (the Pub/Sub emulator runs on Java)"; \
	  $(SUDO) apt-get update -qq && $(APT_INSTALL) default-jre-headless; \
	else echo "prerequisites: no Java runtime and no apt-get: install a Java runtime by hand"; fi
	@if ( $(HAS_PYTHON313) ); then :; \
	elif command -v apt-get >/dev/null 2>&1 && apt-cache show python3.13-venv >/dev/null 2>&1; then \
	  echo "prerequisites: installing python3.13 and python3.13-venv (local-bigquery runs on Python 3.13)"; \
	  $(SUDO) apt-get update -qq && $(APT_INSTALL) python3.13 python3.13-venv; \
	else echo "prerequisites: no Python 3.13 (local-bigquery needs it): \`pyenv install 3.13\`, or set PYTHON313"; fi
	@if command -v chromium >/dev/null 2>&1 || [ -x $(CHROMIUM) ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "prerequisites: installing Debian's chromium (the HTML report's browser test opens it headless)"; \
	  $(SUDO) apt-get update -qq && $(APT_INSTALL) chromium; \
	else echo "prerequisites: no chromium and no apt-get: install Chromium by hand (or set CHROMIUM)"; fi
	@[ -x $(PUBSUB_EMULATOR_LAUNCHER) ] || dpkg -s $(PUBSUB_EMULATOR_PACKAGE) >/dev/null 2>&1 || echo "prerequisites: $(PUBSUB_EMULATOR_PACKAGE) is missing: install it by hand from Google's Cloud SDK apt repository"
	@command -v terraform >/dev/null 2>&1 || [ -x /usr/local/bin/terraform ] || echo "prerequisites: terraform is missing: install it by hand"

unit: venv
	$(BIN)/python -m pytest tests/unit

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(BIGQUERY_VENV) build .attribution .pytest_cache .mypy_cache .ruff_cache
