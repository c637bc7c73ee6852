# sponsor-match: the targets people expect. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: screenshots translations migration run test test-fast test-postgres lint fmt worker bench rehearsal install install-dev migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/sponsor-match db upgrade

seed: migrate
	$(BIN)/sponsor-match seed-demo --if-empty

## Serve the demo on http://127.0.0.1:$(PORT) with the worker beside it (Ctrl-C stops both).
run: seed
	@echo "Demo logins (password 'recovery-demo'): coordinator@demo.example," \
	      "sponsor1@demo.example ... sponsor60@demo.example, newcomer1@demo.example ... newcomer20@demo.example"
	@$(BIN)/python -m api.devserver --port $(PORT)

worker: migrate
	$(BIN)/sponsor-match worker

## The whole suite on SQLite (and on PostgreSQL too when SPONSOR_TEST_DATABASE_URL is set).
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The inner loop: the suite without the tests marked `slow` (each over ~20 s).
test-fast: install-dev
	$(BIN)/python -m pytest -m 'not slow' $(PYTEST_ARGS)

test-postgres: install-dev
	SPONSOR_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-dev
	$(BIN)/python -m benchmarks.run

## Two gunicorn nodes, two schedulers, load and faults against the local PostgreSQL; writes
## benchmarks/rehearsal.json (the short CI version, REHEARSAL_ARGS=--short: rehearsal-short.json).
rehearsal: install-dev
	$(BIN)/python -m benchmarks.rehearsal $(REHEARSAL_ARGS)

## Refresh docs/screenshots/ (the README's picture tour) from the browser journeys.
screenshots: install-dev
	SPONSOR_SCREENSHOTS=docs $(BIN)/python -m pytest -m browser tests/web/browser -p no:cacheprovider

## Extract every string for translators, merge into the catalogues, compile them.
translations: install-dev
	$(BIN)/pybabel --quiet extract -F babel.cfg -k _l -k N_ -k lazy_gettext --no-location --sort-output \
	    -o api/translations/messages.pot .
	$(BIN)/pybabel --quiet update -i api/translations/messages.pot -d api/translations \
	    --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel --quiet compile -d api/translations

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

## Regenerate the single initial migration from the models (allowed until the first release).
migration: install
	rm -f migrations/versions/*.py
	SPONSOR_DATABASE_URL=sqlite:////tmp/sm-migration-$$$$.db $(BIN)/sponsor-match db migrate -m "initial schema"
	$(BIN)/ruff format migrations >/dev/null
