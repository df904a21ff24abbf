# The two commands a new machine needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
PNAPP_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export PNAPP_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test lint lock chromium translations

# Every package comes from requirements.lock (exact versions and hashes, made by uv);
# `make lock` refreshes it after a change to pyproject.toml's dependencies.
UV_VERSION := 0.13.9
UV := $(BIN)/uv

$(UV):
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/.installed: requirements.lock | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

## Re-resolve every dependency (direct and indirect) into requirements.lock, with hashes.
lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra test --generate-hashes --universal \
		--python-version 3.11 --quiet -o requirements.lock

## Serve pnapp at http://127.0.0.1:$(PORT) (SQLite in ./instance unless DATABASE_URL is set).
run: $(BIN)/.installed
	$(BIN)/flask --app pnapp init
	$(BIN)/flask --app pnapp serve --port $(PORT)

## Lint, then the whole suite on SQLite and on PostgreSQL. The two runs go side by side
## (they share nothing but the machine); PostgreSQL's report is printed after SQLite's.
test: $(BIN)/.installed chromium lint
	@mkdir -p test-artifacts
	@if $(BIN)/python -m tests.pg_ready "$(PNAPP_TEST_DATABASE_URL)"; then \
		echo "Running the suite on SQLite and, at the same time, on PostgreSQL"; \
		PNAPP_TEST_DB=postgresql PNAPP_TEST_DATABASE_URL="$(PNAPP_TEST_DATABASE_URL)" \
			$(BIN)/pytest -p no:cacheprovider --basetemp=test-artifacts/tmp-postgresql \
			> test-artifacts/postgresql.log 2>&1 & pg=$$!; \
		PNAPP_TEST_DB=sqlite $(BIN)/pytest --basetemp=test-artifacts/tmp-sqlite; sqlite=$$?; \
		wait $$pg; postgresql=$$?; \
		echo; echo "======== the same suite on PostgreSQL ========"; cat test-artifacts/postgresql.log; \
		echo "SQLite run: exit $$sqlite; PostgreSQL run: exit $$postgresql"; \
		[ $$sqlite = 0 ] && [ $$postgresql = 0 ]; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(PNAPP_TEST_DATABASE_URL): failing, since CI=true"; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PNAPP_TEST_DATABASE_URL): only SQLite is tested"; \
		PNAPP_TEST_DB=sqlite $(BIN)/pytest --basetemp=test-artifacts/tmp-sqlite; \
	fi

## After changing words in the code or templates: refresh the catalogues, translate what
## is new in pnapp/translations/*/LC_MESSAGES/messages.po, then run this again to compile.
translations: $(BIN)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --add-comments=Translators: \
		--no-location --no-wrap --sort-output -o pnapp/translations/messages.pot .
	$(BIN)/pybabel -q update -i pnapp/translations/messages.pot -d pnapp/translations \
		--no-fuzzy-matching --ignore-obsolete --no-wrap
	$(BIN)/pybabel compile --statistics -d pnapp/translations

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# Browser tests drive Debian's Chromium, the PDF report is rendered with poppler's
# pdftoppm, and the cluster test (tests/test_cluster.py) puts Debian's nginx in front of the
# instances and bridges PostgreSQL and Redis into their network namespaces with socat;
# install them when they are missing.
chromium:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null \
		&& command -v nginx >/dev/null && command -v socat >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$$SUDO apt-get install -y -qq chromium poppler-utils nginx-light socat; }
