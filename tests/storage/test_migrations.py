"""The migrations are the schema: up, down and up again on both backends, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from backrun_bot.storage.engine import create_engine
from backrun_bot.storage.migrate import current_revision, downgrade_to, upgrade_to, upgrade_to_head
from backrun_bot.storage.models import Base

HEAD = "0010_board"
TABLES = {
    "teams",
    "athletes",
    "run_sessions",
    "bot_state",
    "reminder_deliveries",
    "reminder_occurrences",
    "reminder_settings_changes",
    "guild_welcomes",
    "rest_days",
    "alembic_version",
}
NEW_IN_ISSUE_9 = {"reminder_occurrences", "reminder_settings_changes"}
NEW_IN_ISSUE_10 = {"guild_welcomes", "rest_days"}


async def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    await upgrade_to_head(empty_db_url)
    assert await tables(empty_db_url) == TABLES
    assert await current_revision(empty_db_url) == HEAD

    await downgrade_to(empty_db_url, "0008_reminder_settings_changes")
    assert await tables(empty_db_url) == TABLES - NEW_IN_ISSUE_10
    await downgrade_to(empty_db_url, "0006_reminder_occurrences")
    assert await tables(empty_db_url) == TABLES - NEW_IN_ISSUE_10 - {"reminder_settings_changes"}
    before_9 = TABLES - NEW_IN_ISSUE_10 - NEW_IN_ISSUE_9
    await downgrade_to(empty_db_url, "0005_slot_group_indexes")
    assert await tables(empty_db_url) == before_9
    await downgrade_to(empty_db_url, "0002_reminders")
    assert await tables(empty_db_url) == before_9
    await downgrade_to(empty_db_url, "0001_initial")
    assert await tables(empty_db_url) == before_9 - {"reminder_deliveries"}
    await downgrade_to(empty_db_url, "base")
    assert await tables(empty_db_url) == {"alembic_version"}
    assert await current_revision(empty_db_url) is None

    await upgrade_to(empty_db_url, "0001_initial")
    await upgrade_to_head(empty_db_url)
    assert await tables(empty_db_url) == TABLES


async def test_upgrade_keeps_existing_rows(empty_db_url: str) -> None:
    """0002 adds columns to teams/athletes that already hold data (the defaults fill them); 0003
    rebuilds run_sessions on SQLite, keeping its rows."""
    await upgrade_to(empty_db_url, "0001_initial")
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO teams (id, timezone, created_at) VALUES (1, 'UTC', '2026-01-01 00:00:00+00:00')"
            )
            await conn.exec_driver_sql(
                "INSERT INTO athletes (team_id, user_id, display_name, created_at)"
                " VALUES (1, 5, 'alice', '2026-01-01 00:00:00+00:00')"
            )
            await conn.exec_driver_sql(
                "INSERT INTO run_sessions (athlete_id, team_id, kind, is_backward, meters,"
                " effective_meters, amount_text, day, logged_at)"
                " VALUES (1, 1, 'backward', true, 400, 400, '400m',"
                " '2026-01-01', '2026-01-01 00:00:00+00:00')"
            )
        await upgrade_to_head(empty_db_url)
        async with engine.connect() as conn:
            team = (
                await conn.exec_driver_sql(
                    "SELECT warmup_time, reminder_days, reminders_active, units, weekly_summary,"
                    " coach_role_id, removed_at FROM teams"
                )
            ).one()
            athlete = (await conn.exec_driver_sql("SELECT mentions_enabled FROM athletes")).one()
            entries = (await conn.exec_driver_sql("SELECT id, amount_text FROM run_sessions")).all()
    finally:
        await engine.dispose()
    warmup, days, active, units, weekly, coach_role, removed = tuple(team)
    assert (warmup, days, active) == ("07:00", "0123456", False)
    assert (units, bool(weekly), coach_role, removed) == ("metric", True, None, None)
    assert bool(athlete[0]) is True
    assert [tuple(e) for e in entries] == [(1, "400m")]


async def test_models_match_migrations(db_url: str) -> None:
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []
