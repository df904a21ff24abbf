"""Column types and helpers every model module shares."""

from __future__ import annotations

import hashlib
from datetime import UTC

from sqlalchemy import BigInteger, DateTime, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python on every database (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class epoch_seconds(FunctionElement):  # noqa: N801 (a SQL function, named as one)
    """Whole seconds since 1970-01-01 UTC of a UTCDateTime column, computed by the database:
    reading a number costs a fraction of reading a timestamp, for every session of a long
    history (the streaks). Floored, so an instant never moves to the next day."""

    type = BigInteger()
    name = "epoch_seconds"
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps UTC text; strftime('%s') reads it as UTC and drops the fraction.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw) -> str:
    return f"FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}))::bigint"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
