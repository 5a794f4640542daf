"""The one place that picks SQL by dialect: an INSERT that can say ON CONFLICT.

SQLAlchemy's generic INSERT has no ON CONFLICT clause; SQLite and PostgreSQL both have one, each
through its own dialect's ``Insert``. Everything that inserts-or-skips (or upserts) goes through
:func:`insert`, so supporting another backend is one change here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert(s: AsyncSession, table: Any) -> sqlite.Insert | postgresql.Insert:
    """``INSERT INTO table`` for the session's dialect, with ``on_conflict_do_nothing/_update``."""
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
