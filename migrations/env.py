"""Alembic environment: async engines, batch mode for SQLite, the models' naming convention.

The URL comes from ``config.attributes["database_url"]`` (the bot and tests), else ``DATABASE_URL``
(the settings, as for ``backrun-bot migrate`` or a plain ``alembic upgrade head``). When a caller
passes an open connection in ``config.attributes["connection"]`` it is used as is.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from backrun_bot.config import load_settings
from backrun_bot.storage.engine import create_engine
from backrun_bot.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    return load_settings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table, and is a no-op elsewhere.
        render_as_batch=True,
        compare_type=True,
    )


def _run_with(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    # Foreign keys off on SQLite: a batch rebuild drops the table, which must not cascade.
    engine = create_engine(_url(), foreign_keys=False)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run_with)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
    else:
        asyncio.run(_run_async())
