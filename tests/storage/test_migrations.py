"""The migrations are the schema: up, down and up again on both backends, and they match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from backrun_bot.storage.engine import create_engine
from backrun_bot.storage.migrate import current_revision, downgrade_to, upgrade_to, upgrade_to_head
from backrun_bot.storage.models import Base

HEAD = "0014_month_totals"
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
    "checkins",
    "month_totals",
    "done_presses",
    "alembic_version",
}
NEW_IN_ISSUE_9 = {"reminder_occurrences", "reminder_settings_changes"}
NEW_IN_ISSUE_10 = {"guild_welcomes", "rest_days"}
NEW_IN_ISSUE_11 = {"checkins", "month_totals", "done_presses"}
LADDER = {"ladder_through", "ladder_level", "ladder_streak"}  # 0013, on athletes


async def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def columns(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return {c["name"] for c in await conn.run_sync(lambda c: inspect(c).get_columns(table))}
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    await upgrade_to_head(empty_db_url)
    assert await tables(empty_db_url) == TABLES
    assert await current_revision(empty_db_url) == HEAD
    assert "rpe" in await columns(empty_db_url, "run_sessions")
    assert await columns(empty_db_url, "athletes") >= LADDER

    assert {"done_edit_at", "done_shown"} <= await columns(empty_db_url, "reminder_deliveries")

    await downgrade_to(empty_db_url, "0013_ladder")
    assert await tables(empty_db_url) == TABLES - {"month_totals"}
    await downgrade_to(empty_db_url, "0012_done_presses")
    assert await tables(empty_db_url) == TABLES - {"month_totals"}
    assert not LADDER & await columns(empty_db_url, "athletes")
    await downgrade_to(empty_db_url, "0011_checkins_and_rpe")
    assert await tables(empty_db_url) == TABLES - {"month_totals", "done_presses"}
    assert "done_edit_at" not in await columns(empty_db_url, "reminder_deliveries")
    await downgrade_to(empty_db_url, "0010_board")
    assert await tables(empty_db_url) == TABLES - NEW_IN_ISSUE_11
    assert "rpe" not in await columns(empty_db_url, "run_sessions")
    before_11 = TABLES - NEW_IN_ISSUE_11
    await downgrade_to(empty_db_url, "0008_reminder_settings_changes")
    assert await tables(empty_db_url) == before_11 - NEW_IN_ISSUE_10
    await downgrade_to(empty_db_url, "0006_reminder_occurrences")
    assert await tables(empty_db_url) == before_11 - NEW_IN_ISSUE_10 - {"reminder_settings_changes"}
    before_9 = before_11 - NEW_IN_ISSUE_10 - NEW_IN_ISSUE_9
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


async def test_rpe_and_checkin_ranges_are_enforced_by_the_database(empty_db_url: str) -> None:
    """0011's CHECKs hold on both databases, whatever a caller forgot to validate: an RPE outside
    1-10, a soreness outside 0-10 or a sleep outside 1-5 is refused by the store itself."""
    await upgrade_to_head(empty_db_url)
    engine = create_engine(empty_db_url)
    now = "2026-12-03 08:00:00"
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"INSERT INTO teams (id, created_at) VALUES (1, '{now}')"))
            await conn.execute(
                text(
                    "INSERT INTO athletes (id, team_id, user_id, display_name, created_at)"
                    f" VALUES (1, 1, 7, 'a', '{now}')"
                )
            )
        entry = (
            "INSERT INTO run_sessions (athlete_id, team_id, kind, is_backward, meters, effective_meters,"
            " amount_text, day, logged_at, rpe)"
            " VALUES (1, 1, 'backward', TRUE, 400, 400, '400m', '2026-12-03', '{now}', {rpe})"
        )
        checkin = (
            "INSERT INTO checkins (athlete_id, day, team_id, soreness, sleep, recorded_at)"
            " VALUES (1, '2026-12-0{d}', 1, {soreness}, {sleep}, '{now}')"
        )
        async with engine.begin() as conn:
            await conn.execute(text(entry.format(now=now, rpe=10)))
            await conn.execute(text(entry.format(now=now, rpe="NULL")))
            await conn.execute(text(checkin.format(d=1, soreness=0, sleep=5, now=now)))
            await conn.execute(text(checkin.format(d=2, soreness=10, sleep="NULL", now=now)))
        for bad in (
            entry.format(now=now, rpe=0),
            entry.format(now=now, rpe=11),
            checkin.format(d=3, soreness=11, sleep=3, now=now),
            checkin.format(d=3, soreness=-1, sleep=3, now=now),
            checkin.format(d=3, soreness=3, sleep=0, now=now),
            checkin.format(d=3, soreness=3, sleep=6, now=now),
        ):
            with pytest.raises(IntegrityError):
                async with engine.begin() as conn:
                    await conn.execute(text(bad))
    finally:
        await engine.dispose()
