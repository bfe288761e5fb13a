# Every target creates .venv when missing and installs the project (with test and lint extras)
# from pyproject.toml, so a fresh machine with Python 3.11 needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-sqlite test-postgres test-midnight lint bench clean screenshots

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,lint]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

# The whole suite on SQLite, then again on PostgreSQL when OUTAGES_TEST_POSTGRES_URL is set.
test: $(STAMP)
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$OUTAGES_TEST_POSTGRES_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "OUTAGES_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; fi

# One pytest worker per core and one more: many tests wait on a browser, a worker process or
# a server, and the extra worker fills that time. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

test-sqlite: $(STAMP)
	OUTAGES_TEST_DB=sqlite $(BIN)/pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-postgres: $(STAMP)
	OUTAGES_TEST_DB=postgres $(BIN)/pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The suite on SQLite with every test's clock starting 30 s before, then 30 s after, local
# midnight in Hanoi: tests must not depend on the date the wall clock gives.
test-midnight: $(STAMP)
	OUTAGES_TEST_CLOCK=2026-12-01T23:59:30+07:00 $(MAKE) --no-print-directory test-sqlite
	OUTAGES_TEST_CLOCK=2026-12-02T00:00:30+07:00 $(MAKE) --no-print-directory test-sqlite

# ruff, mypy, and the import contracts in pyproject.toml (which layer may import which).
lint: $(STAMP)
	$(BIN)/ruff check outages notifier geo tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# PNGs of the console's main pages (base map off) in docs/img/, from a throwaway demo database.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info demo-out
