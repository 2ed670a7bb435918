# Two commands for a fresh machine (Python 3.11, Node 20, npm; no Docker, no cloud account):
#   make demo   - a simulated trading day through the real copy pipeline on an embedded AWS (moto server)
#   make test   - unit, integration (moto server over HTTP), infra (CDK synth + cdk-nag + cfn-lint), end to end
# Each target installs what it needs on first use: a virtualenv pinned by requirements/lock.txt and the
# CDK CLI pinned by package-lock.json.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := local,infra,venue,listener,quant,dev
SEED ?=
# the suite runs on this many processes, one test file per process at a time (module fixtures: one synth, one moto)
TEST_WORKERS ?= 3
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test unit integration infra e2e synth bench lint format clean help

help:
	@grep -E '^[a-z]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: pyproject.toml requirements/lock.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c requirements/lock.txt -e '.[$(EXTRAS)]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: $(VENV)/.installed ## run a simulated trading day through the copy pipeline (optional SEED=n)
	$(BIN)/copytrader demo $(if $(SEED),--seed $(SEED))

test: $(VENV)/.installed node_modules/.installed ## the whole suite
	$(PYTEST)

unit: $(VENV)/.installed ## pure domain tests (sockets disabled)
	$(PYTEST) tests/unit

integration: $(VENV)/.installed ## handlers against moto server over HTTP
	$(PYTEST) tests/integration

infra: $(VENV)/.installed node_modules/.installed ## synthesized template: assertions, cdk-nag, cfn-lint
	$(PYTEST) tests/infra

e2e: $(VENV)/.installed ## the demo path end to end
	$(PYTEST) tests/e2e

synth: $(VENV)/.installed node_modules/.installed ## write cdk.out/*.template.json (offline, no Docker)
	PATH="$(CURDIR)/$(BIN):$$PATH" node_modules/.bin/cdk synth --quiet

# arch is the benchmark's reference implementation only (no test imports it)
$(VENV)/.bench-installed: $(VENV)/.installed bench/requirements.txt
	$(BIN)/pip install --quiet -c requirements/lock.txt -r bench/requirements.txt
	@touch $@

bench: $(VENV)/.installed $(VENV)/.bench-installed ## measure, write bench/results.json, print the table
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules cdk.out .build .pytest_cache .mypy_cache .ruff_cache reports
