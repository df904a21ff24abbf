# The two commands a new machine needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
PNAPP_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export PNAPP_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test lint chromium

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## Serve pnapp at http://127.0.0.1:$(PORT) (SQLite in ./instance unless DATABASE_URL is set).
run: $(BIN)/.installed
	$(BIN)/flask --app pnapp init
	$(BIN)/flask --app pnapp serve --port $(PORT)

## Lint, then the whole suite on SQLite and again on PostgreSQL.
test: $(BIN)/.installed chromium lint
	PNAPP_TEST_DB=sqlite $(BIN)/pytest
	@if $(BIN)/python -m tests.pg_ready "$(PNAPP_TEST_DATABASE_URL)"; then \
		PNAPP_TEST_DB=postgresql PNAPP_TEST_DATABASE_URL="$(PNAPP_TEST_DATABASE_URL)" $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(PNAPP_TEST_DATABASE_URL): failing, since CI=true"; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PNAPP_TEST_DATABASE_URL): the PostgreSQL run was skipped"; \
	fi

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# Browser tests drive Debian's Chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
