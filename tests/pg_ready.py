"""Exit 0 when the PostgreSQL at the given URL answers, 1 otherwise (used by `make test`)."""

import sys

import psycopg

try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except psycopg.Error as err:
    print(f"PostgreSQL: {err}".strip(), file=sys.stderr)
    sys.exit(1)
