# The two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
METRICS_DIR ?= .metrics

.PHONY: run test lint format typecheck pytest services browser bench soak mutate clean worker beat up simulate

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py setup_schedule
	$(PY) manage.py seed_demo --history-days 21 --base-url http://$(HOST):$(PORT)
	@echo "Serving the hub, API, admin and WebSocket on http://$(HOST):$(PORT)"
	$(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan off

# The scheduled lifecycle needs a broker: set DATABASE_URL and REDIS_URL (docs/operations.md).
worker: venv
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: venv
	$(PY) manage.py setup_schedule
	$(VENV)/bin/celery -A config beat --loglevel=INFO

# web + worker + beat from the Procfile, against Postgres and Redis.
up: venv
	@test -n "$$DATABASE_URL" && test -n "$$REDIS_URL" || (echo "make up needs DATABASE_URL and REDIS_URL (see docs/operations.md)"; exit 1)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py setup_schedule
	# One metrics directory for web, worker and beat, emptied at each start (docs/operations.md).
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	PROMETHEUS_MULTIPROC_DIR=$(abspath $(METRICS_DIR)) HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile

# The lifecycle simulation (not part of make test): 10,000 players x 90 days by default;
# a smaller one with SIM="--players 1000 --days 14" (docs/operations.md).
simulate: venv services
	$(PY) -m ops.simulate $(SIM)

services:
	@bash .ci/services.sh

browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: venv
	$(VENV)/bin/mypy .

# Tests run in a random order (pytest-randomly prints the seed; PYTEST_ARGS="--randomly-seed=N"
# repeats one) and report branch coverage of the core (the files in pyproject.toml).
pytest: venv services browser
	$(PY) -m pytest --cov --cov-report=term-missing $(PYTEST_ARGS)

test: venv services browser lint typecheck pytest

$(VENV)/.bench-installed: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e ".[dev,bench]"
	touch $@

# Real Postgres + Redis (BENCH_DATABASE_URL / BENCH_REDIS_URL); BENCH="--full" or scenario names.
bench: venv services $(VENV)/.bench-installed
	$(PY) bench/run.py $(BENCH)

# Load with faults injected (Redis killed and hung, servers SIGKILLed), then an exact tally.
# Not part of `make test`. Options: make soak SOAK="--minutes 5 --clients 32".
soak: venv services
	$(PY) bench/soak.py $(SOAK)

# Mutation testing of the core, one module at a time (docs/testing.md); not part of `make test`.
# MODULES="claims ledger" picks modules, MUTATE_BUDGET=seconds caps each (default 900).
mutate: venv services
	$(PY) tools/mutate.py $(MODULES)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache .mypy_cache .ruff_cache .mutate .coverage
