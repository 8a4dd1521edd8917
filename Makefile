# City Brain. `make up` runs it locally, `make test` runs the whole suite;
# both build .venv from nothing on the first run.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.12, so the dev environment (and the artifact's wheels) do too.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
FN ?=
EVENT ?=

.PHONY: help venv up reset test unit integration e2e bench package deploy invoke lint openapi clean

help:
	@echo "make up        run City Brain locally (emulated AWS + API + triggers + demo district); it resumes the saved district"
	@echo "make reset     forget the saved local district (CITYBRAIN_LOCAL_DIR, .local): the next make up starts empty"
	@echo "make test      run lint, types and the whole test suite"
	@echo "make lint      ruff (lint and format) and mypy only"
	@echo "make bench     print the performance figures"
	@echo "make package STAGE=prod   build the cloud artifact under build/"
	@echo "make deploy STAGE=prod    package and deploy with CloudFormation"
	@echo "make deploy STAGE=gov     the same, as a private API for the government extranet (README: The cloud)"
	@echo "make invoke FN=process_readings EVENT=events/sqs-readings.json   run one handler on a sample event"
	@echo "make openapi   regenerate docs/openapi.json from the routes and their models"

$(VENV)/.installed: requirements.txt requirements-dev.txt layers/pyproject.toml
	@test -n "$(PYTHON)" || { echo "python3.12 not found (install it, or pass PYTHON=/path/to/python3.12)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

up: venv
	$(BIN)/python -m infra.local

# What CITYBRAIN_FRESH=1 make up does first, without starting anything; refused while a stack runs on it.
reset: venv
	$(BIN)/python -m infra.local.state reset

# Lint, types and the whole suite; the coverage of layers/ and functions/ by the in-process tests is printed last.
# TEST_WORKERS processes share the suite a file at a time (a file's fixtures stay in one process);
# the end-to-end files go first, so that the longest ones do not start last.
TEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -q -p no:schemathesis -n $(TEST_WORKERS) --dist loadfile --cov --cov-report= \
		tests/e2e tests/integration tests/unit
	@echo "coverage of layers/citybrain and functions: $$($(BIN)/python -m coverage report --format=total)%"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/citybrain functions infra

unit: venv
	$(BIN)/python -m pytest -q tests/unit

integration: venv
	$(BIN)/python -m pytest -q tests/integration

e2e: venv
	$(BIN)/python -m pytest -q tests/e2e

bench: venv
	$(BIN)/python -m tests.bench

package: venv
	PATH=$(CURDIR)/$(BIN):$$PATH bash infra/package.sh $(STAGE)

deploy: package
	PATH=$(CURDIR)/$(BIN):$$PATH bash infra/deploy.sh $(STAGE)

invoke: venv
	$(BIN)/python -m infra.invoke $(FN) $(EVENT)

# The committed OpenAPI document; tests/unit/test_openapi.py fails when it differs from what the code generates.
openapi: venv
	$(BIN)/python -m functions.openapi docs/openapi.json

clean:
	rm -rf build .pytest_cache
