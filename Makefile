# make study: set up (first time) and run the whole pipeline, ending with reports/report.md
# make test:  set up (first time) and run the test suite, end to end included (what CI runs)
# make check: the quick tier while editing: lint and the unit tests
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2
export DVC_NO_ANALYTICS := 1

.DEFAULT_GOAL := help
.PHONY: help setup study sweep-report test check test-all test-browser bench params plots-template lint format clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

setup: $(STAMP) ## create .venv and install the exact versions in requirements.lock

study: $(STAMP) ## run the whole study (dvc repro) and print where the report is
	$(BIN)/dvc repro
	@echo "report: $(CURDIR)/reports/report.md"

sweep-report: $(STAMP) ## the claims of the experiments based on HEAD side by side: reports/sweep.md (ARGS="--exp a b")
	$(BIN)/python -m layerwise.sweeps.report $(ARGS)

# two pytest-xdist workers (one per core here): each test file whole on one (a module's
# costly fixture is built once), except the end-to-end tests that each copy the shared
# smoke run, handed out one by one; in the order tests/conftest.py sorts them (pytest-xdist
# would otherwise start with the groups of most tests)
XDIST := -n auto --dist loadgroup --no-loadscope-reorder

test: $(STAMP) ## run the test suite (unit + end to end, not the slow ones): what CI runs
	$(BIN)/python -m pytest -q $(XDIST)

check: $(STAMP) ## the quick inner loop: ruff check + format check + unit tests that train nothing
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q $(XDIST) --ignore=tests/e2e -m "not slow and not train"

test-all: $(STAMP) ## run every test, the slow ones too
	$(BIN)/python -m pytest -q $(XDIST) -m ""

test-browser: $(STAMP) ## open the smoke run's `dvc plots` pages in headless Chromium, offline
	$(BIN)/python -m pytest -q tests/e2e/test_plots_offline.py

bench: $(STAMP) ## run the performance comparisons in benchmarks/
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

params: $(STAMP) ## recompose params.yaml from conf/ (what dvc exp run does)
	$(BIN)/python -m layerwise.config.compose

plots-template: $(STAMP) ## rewrite .dvc/plots/offline.html (dvc plots' page) from the locked bundle
	$(BIN)/python tools/plots_template.py

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

clean: ## remove the virtual environment and caches (not DVC's cache)
	rm -rf $(VENV) .pytest_cache .ruff_cache
