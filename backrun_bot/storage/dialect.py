"""The one place that picks SQL by dialect: an INSERT that can say ON CONFLICT, and a date as a day
number or a month number.

SQLAlchemy's generic INSERT has no ON CONFLICT clause; SQLite and PostgreSQL both have one, each
through its own dialect's ``Insert``. Everything that inserts-or-skips (or upserts) goes through
:func:`insert`, so supporting another backend is one change here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


def insert(s: AsyncSession, table: Any) -> sqlite.Insert | postgresql.Insert:
    """``INSERT INTO table`` for the session's dialect, with ``on_conflict_do_nothing/_update``."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class day_number(FunctionElement[int]):  # a SQL function, named like one
    """A DATE as whole days since 1970-01-01, so that consecutive days are consecutive numbers."""

    type = Integer()
    inherit_cache = True


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps dates as ISO text; julianday() of 1970-01-01 is 2440587.5.
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element: day_number, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


class month_number(FunctionElement[int]):  # a SQL function, named like one
    """A DATE's month as year * 12 + month - 1, so that consecutive months are consecutive numbers."""

    type = Integer()
    inherit_cache = True


@compiles(month_number, "sqlite")
def _month_number_sqlite(element: month_number, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%Y', {day}) AS INTEGER) * 12 + CAST(strftime('%m', {day}) AS INTEGER) - 1)"


@compiles(month_number, "postgresql")
def _month_number_postgresql(element: month_number, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(EXTRACT(YEAR FROM {day}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {day}) AS INTEGER) - 1)"
    )
