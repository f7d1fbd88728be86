# ip-assistant — `make run` brings everything up on the embedded defaults (and local secrets it generates once into
# var/secrets.env); `make test` sets up and runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BASE ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
PORT ?= 8080
SEED_AGENCIES ?= 300

export PYTHONDONTWRITEBYTECODE := 1

-include mk/*.mk

.PHONY: help
help:
	@echo "make run    — set up what is missing, load demo data, start everything (Ctrl-C stops it)"
	@echo "make test   — set up what is missing and run every check and test"
	@echo "make bench  — the benchmarks; writes bench/results.json"

$(STAMPS):
	@mkdir -p $(STAMPS)

# The backend's virtual environment, pinned by constraints.txt; rebuilt when either file changes.
$(STAMPS)/venv: pyproject.toml constraints.txt | $(STAMPS)
	@test -x $(PY) || $(PYTHON_BASE) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

.PHONY: venv
venv: $(STAMPS)/venv

.PHONY: migrate
migrate: venv
	$(PY) server.py migrate

.PHONY: seed
seed: migrate
	$(PY) server.py seed --agencies $(SEED_AGENCIES)

# The assistant's model is trained (only when nlu_data/ or bot/ changed) before anything starts. Secrets not set
# are generated once into var/secrets.env by `server.py dev` and shared by every process it starts.
.PHONY: run
run: seed rasa-train $(RUN_PREREQS)
	$(PY) server.py dev

.PHONY: lint
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# The live assistant tests talk to a real Rasa server, so the model is trained first.
.PHONY: pytest
pytest: venv rasa-train $(PYTEST_PREREQS)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# With DATABASE_URL / REDIS_URL set (CI), the suite runs on PostgreSQL and Redis, then again on the embedded
# defaults (SQLite, in-process cache) — less the suites that start their own servers, which are about processes,
# not about the database engine.
SQLITE_PYTEST_ARGS ?= --ignore=tests/system --ignore=tests/reliability --ignore=tests/bot/test_rasa_live.py
.PHONY: pytest-embedded
pytest-embedded: venv
	@if [ -n "$$DATABASE_URL$$REDIS_URL" ]; then \
	  echo "pytest on the embedded defaults (SQLite, in-process cache)"; \
	  env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -q $(SQLITE_PYTEST_ARGS); \
	fi

# The tests that talk to a real Rasa serving the trained model (they skip without one, so they run after training).
RASA_LIVE_TESTS := tests/bot/test_rasa_live.py tests/system/test_rasa_instances.py

.PHONY: pytest-database pytest-rasa-live
pytest-database: venv $(PYTEST_PREREQS)
	$(PY) -m pytest -q $(addprefix --ignore=,$(RASA_LIVE_TESTS)) $(PYTEST_ARGS)

pytest-rasa-live: venv rasa-train $(PYTEST_PREREQS)
	$(PY) -m pytest -q $(RASA_LIVE_TESTS) $(PYTEST_ARGS)

# Order: cheap checks first, so a lint or data error fails in seconds, not after training. Then two at a time (the
# machine has two cores and one pytest process keeps one busy): what needs no model — both database passes, the
# console's tests — runs while the model trains; then the live Rasa tests beside Rasa's own tests. The same tests
# as `pytest pytest-embedded rasa-test` one by one. Each job's output is printed whole when it ends (--output-sync).
.PHONY: test
test: lint rasa-validate
	$(MAKE) -j2 --output-sync=target rasa-train pytest-embedded pytest-database $(EXTRA_TESTS)
	$(MAKE) -j2 --output-sync=target pytest-rasa-live rasa-test

# The benchmarks start servers and Rasa: they share the local secrets `make run` uses (generated once).
.PHONY: bench
bench: venv $(BENCH_PREREQS)
	@secrets="$$($(PY) app/local_secrets.py --export)" && eval "$$secrets" && $(PY) -m bench.run $(BENCH_ARGS)

.PHONY: clean
clean:
	rm -rf $(STAMPS) var results
