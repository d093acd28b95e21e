# The two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
UV := ./scripts/uv.sh
MANAGE := $(UV) run --frozen python manage.py
# The project's interpreter once `install` has run, for the long-running processes of `run`
# (signalled directly, not through `uv run`).
VENV_PYTHON := .venv/bin/python
PORT ?= 8000
# The suite runs on PostgreSQL first (CI's database), then again on SQLite.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/calibration_service
PYTEST_ARGS ?=
# Branch coverage of the apps and config/ ([tool.coverage] in pyproject.toml). Each pass keeps
# its own data file and prints its own figure; `make test` then gates on the two combined,
# because some code can only run on one database (PostgreSQL's window functions and query
# plans, SQLite's portable paths): a line counts as tested when a pass ran it.
COVERAGE := $(UV) run --frozen coverage
COVERAGE_MIN := 95

.PHONY: help install run migrate seed test test-postgres test-sqlite coverage check lint format typecheck \
	schema lint-docker smoke fuzz clean bench bench-small layering

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install:  ## install the locked dependencies into .venv (bootstraps uv)
	$(UV) sync --frozen

run: install  ## migrate, seed demo data, create a local admin, serve on 127.0.0.1:$(PORT) with the worker beside it
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	$(MANAGE) ensure_admin --port $(PORT)
	@# The worker (alarms' notifications, sweeps) and the demo rooms' sensors run beside the
	@# server; Ctrl-C stops all three.
	@# Notifications link to the console where this run serves it.
	@export SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}"; \
	$(VENV_PYTHON) manage.py run_huey & worker=$$!; \
	$(VENV_PYTHON) manage.py demo_sensors & sensors=$$!; \
	trap 'kill $$worker $$sensors 2>/dev/null; wait $$worker $$sensors 2>/dev/null' EXIT INT TERM; \
	$(VENV_PYTHON) manage.py runserver 127.0.0.1:$(PORT)

migrate: install  ## apply migrations
	$(MANAGE) migrate --no-input

seed: install  ## load idempotent demo data
	$(MANAGE) seed_demo

test: test-postgres test-sqlite coverage  ## the whole suite on PostgreSQL, then on SQLite; fails below 95 % coverage

test-postgres: install  ## the suite on PostgreSQL ($$TEST_DATABASE_URL)
	DATABASE_URL=$(TEST_DATABASE_URL) COVERAGE_FILE=.coverage.postgres \
		$(UV) run --frozen pytest --cov --cov-report= $(PYTEST_ARGS)
	@echo "PostgreSQL pass: $$(COVERAGE_FILE=.coverage.postgres $(COVERAGE) report --format=total) % branch coverage"

test-sqlite: install  ## the suite on SQLite (PostgreSQL-only, browser and make-run tests deselected)
	DATABASE_URL=sqlite:///:memory: COVERAGE_FILE=.coverage.sqlite \
		$(UV) run --frozen pytest -m "not postgresql and not browser and not process" --cov --cov-report= $(PYTEST_ARGS)
	@echo "SQLite pass: $$(COVERAGE_FILE=.coverage.sqlite $(COVERAGE) report --format=total) % branch coverage"

coverage: install  ## both passes' coverage combined, what is missed, and the gate (after test-postgres and test-sqlite)
	$(COVERAGE) combine --keep --data-file=.coverage .coverage.postgres .coverage.sqlite
	$(COVERAGE) report --data-file=.coverage --fail-under=$(COVERAGE_MIN)

check: lint typecheck schema layering  ## ruff lint + format check, mypy, OpenAPI validation, import layering

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: install  ## apply ruff's fixes and formatting
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

typecheck: install
	$(UV) run --frozen mypy .

layering:  ## imports point one way: no circles, no project import hidden in a function (../shared/tools)
	python3 ../shared/tools/layering.py .

schema: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) spectacular --validate --fail-on-warn --file /dev/null

lint-docker: install  ## hadolint the Dockerfile, shellcheck the scripts, validate docker-compose.yml
	./scripts/lint-docker.sh

smoke: install  ## the container's start-up run natively on PostgreSQL, then probes, admin CSS, API
	./scripts/smoke.sh

fuzz: install  ## schemathesis against a live server on PostgreSQL (FUZZ_* knobs: scripts/fuzz.py)
	$(UV) run --frozen python scripts/fuzz.py

clean:  ## remove the virtualenv, the local SQLite database and collected static files
	rm -rf .venv db.sqlite3 huey.sqlite3 staticfiles .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*

bench: install  ## the benchmark suite on the default data set (loads it first; see bench/README.md)
	$(UV) run --frozen python -m bench.run $(BENCH_ARGS)

bench-small: install  ## the benchmark suite on the small data set, for a quick run
	$(UV) run --frozen python -m bench.run --small $(BENCH_ARGS)
