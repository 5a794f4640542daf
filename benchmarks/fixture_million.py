"""The 1M-entry database of issue 9: 1,000,000 entries over 2,000 teams, built with bulk inserts.

One team (the server "big") has 300 athletes with an entry on every day of the last five years
(547,500 rows, each athlete one unbroken backward streak); the other 452,500 entries are spread over
the other 1,999 teams, ten athletes each, about 23 entries per athlete over the last year. Rows go
in day by day, as a real database fills, so an athlete's entries are spread over the table. Team,
channel and member ids are the emulator's stable ids (``open_sandbox(..., stable_ids=True)``), so a
benchmark's emulator guild "big" and its member "big001" are this database's team and athlete.

    .venv/bin/python benchmarks/fixture_million.py --database-url URL [--force]

The database is migrated first with the project's migration runner (``upgrade_to_head``). Rows go
in with executemany batches in a single transaction on SQLite and with COPY on PostgreSQL (then
``VACUUM ANALYZE``: the statistics and visibility map autovacuum would reach on its own). The
fixture's parameters are kept in ``bot_state``; a database that already holds this fixture is left
as it is (``--force`` empties its teams, athletes and entries and builds it again). A database with
other data is refused without ``--force``. Prints a JSON line of what it did.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from backrun_bot.domain.kinds import Kind
from backrun_bot.sandbox.emulator.snowflake import StableIds
from backrun_bot.storage.engine import create_engine
from backrun_bot.storage.migrate import upgrade_to_head
from backrun_bot.storage.models import Athlete, BotState, RunSession, Team

STATE_KEY = "benchmark_fixture"
BIG_GUILD = "big"
BATCH = 50_000
BACKWARD_KINDS = [kind for kind in Kind if kind.is_backward]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


@dataclass(frozen=True)
class Shape:
    teams: int = 2000
    entries: int = 1_000_000
    big_athletes: int = 300
    big_days: int = 5 * 365
    small_athletes: int = 10  # per team, in each of the other teams
    small_days: int = 365  # the window the other teams' entries fall in
    layout: str = "day by day"  # the order rows go in (an older build in another order is rebuilt)


def big_member(i: int) -> str:
    """The name of the big team's i-th athlete in the emulator (``big000`` … ``big299``)."""
    return f"big{i:03d}"


def small_guild(t: int) -> str:
    return f"team{t:04d}"


def small_member(t: int, i: int) -> str:
    return f"team{t:04d}-m{i}"


def ids_of(shape: Shape) -> tuple[dict[str, int], dict[str, int]]:
    """The stable guild ids by guild name and user ids by member name (the emulator's ids)."""
    ids = StableIds()
    guilds = {BIG_GUILD: ids.id_for("guild", BIG_GUILD)}
    guilds.update({small_guild(t): ids.id_for("guild", small_guild(t)) for t in range(1, shape.teams)})
    users = {big_member(i): ids.id_for("user", big_member(i)) for i in range(shape.big_athletes)}
    for t in range(1, shape.teams):
        users.update(
            {small_member(t, i): ids.id_for("user", small_member(t, i)) for i in range(shape.small_athletes)}
        )
    return guilds, users


def _processors(dialect: Dialect, columns: Sequence[ColumnElement[Any]]) -> list[Any]:
    """Each column's bind processor on this dialect (how SQLAlchemy would store the value)."""
    return [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]


def _entry(athlete_id: int, team_id: int, n: int, day: date) -> tuple[Any, ...]:
    """One entry, varied by ``n``: a backward kind, a distance (or on every fifth a duration only)."""
    kind = BACKWARD_KINDS[n % len(BACKWARD_KINDS)]
    if n % 5 == 4:
        seconds = 120.0 + n % 600
        meters, text_ = None, f"{int(seconds)}s"
        effective = seconds * 1000 / kind.pace_s_per_km
    else:
        meters = 200.0 + (n * 37) % 1200
        seconds, text_ = None, f"{meters:g}m"
        effective = meters
    logged = datetime.combine(day, clock_time(18, (n * 7) % 60), tzinfo=UTC)
    return (athlete_id, team_id, kind.value, True, meters, seconds, effective, text_, None, day, logged)


ENTRY_COLUMNS = [
    RunSession.__table__.c[name]
    for name in (
        "athlete_id",
        "team_id",
        "kind",
        "is_backward",
        "meters",
        "seconds",
        "effective_meters",
        "amount_text",
        "note",
        "day",
        "logged_at",
    )
]


def entries(shape: Shape, guilds: dict[str, int], today: date) -> Iterator[tuple[Any, ...]]:
    """Every entry, day by day as a real database fills (each day the big team's 300, then the other
    teams' of that day), so one athlete's entries lie spread over the table as they would, not side
    by side. Athlete ids are 1, 2, … : the big team's first."""
    big = guilds[BIG_GUILD]
    small = (shape.teams - 1) * shape.small_athletes
    rest = shape.entries - shape.big_athletes * shape.big_days
    per, extra = divmod(rest, small)
    by_day: dict[int, list[tuple[int, int, int]]] = {}  # days before today -> (athlete, team, n)
    for k in range(small):
        t = k // shape.small_athletes + 1
        count = per + (1 if k < extra else 0)
        step = max(1, shape.small_days // max(1, count))
        for e in range(count):
            back = (e * step + k) % shape.small_days
            by_day.setdefault(back, []).append((shape.big_athletes + k + 1, guilds[small_guild(t)], k + e))
    for back in range(max(shape.big_days, shape.small_days) - 1, -1, -1):
        day = today - timedelta(days=back)
        if back < shape.big_days:
            for a in range(shape.big_athletes):
                yield _entry(a + 1, big, a * 7 + back, day)
        for athlete, team, n in by_day.get(back, []):
            yield _entry(athlete, team, n, day)


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _state(conn: AsyncConnection) -> tuple[str | None, int]:
    stored = await conn.scalar(select(BotState.value).where(BotState.key == STATE_KEY))
    teams = int(await conn.scalar(select(func.count()).select_from(Team)) or 0)
    return stored, teams


# Everything that refers to a team or an athlete, children first (SQLite deletes in this order).
_TEAM_TABLES = (
    "done_presses",
    "rest_days",
    "checkins",
    "month_totals",
    "run_sessions",
    "athletes",
    "reminder_deliveries",
    "teams",
    "guild_welcomes",
)


async def _empty(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"TRUNCATE {', '.join(_TEAM_TABLES)} RESTART IDENTITY"))
    else:
        for table in _TEAM_TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))
    await conn.execute(text("DELETE FROM bot_state WHERE key = :key"), {"key": STATE_KEY})


async def _insert(
    conn: AsyncConnection, table: str, columns: Sequence[ColumnElement[Any]], rows: Iterator[tuple[Any, ...]]
) -> int:
    names = [c.name for c in columns]
    count = 0
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        pg = raw.driver_connection
        assert pg is not None
        for batch in _batches(rows, BATCH):
            await pg.copy_records_to_table(table, records=batch, columns=names)
            count += len(batch)
        return count
    # SQLite: plain executemany of values already in SQLAlchemy's stored form (dates as text).
    procs = _processors(conn.dialect, columns)
    cache: dict[tuple[int, Any], Any] = {}

    def stored(i: int, value: Any) -> Any:
        proc = procs[i]
        if proc is None or value is None:
            return value
        key = (i, value)
        if key not in cache:
            cache[key] = proc(value)
        return cache[key]

    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    for batch in _batches(rows, BATCH):
        await conn.exec_driver_sql(sql, [tuple(stored(i, v) for i, v in enumerate(row)) for row in batch])
        count += len(batch)
    return count


async def build(url: str, *, force: bool = False, shape: Shape | None = None) -> dict[str, Any]:
    """Build the fixture at ``url`` unless it is already there; what was done, as a dict."""
    shape = shape or Shape()
    wanted = json.dumps(asdict(shape), sort_keys=True)
    started = time.perf_counter()
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            stored, teams = await _state(conn)
        if stored is not None and json.loads(stored).get("shape") == json.loads(wanted) and not force:
            return {
                "database": engine.dialect.name,
                "built": False,
                "reason": "already built",
                **json.loads(stored),
            }
        if teams and not force and stored is None:
            raise SystemExit(
                f"{engine.url.render_as_string(hide_password=True)} has {teams} teams and is not the "
                "fixture; --force empties it"
            )
        today = datetime.now(UTC).date()
        guilds, users = ids_of(shape)
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            if stored is not None or teams:
                await _empty(conn)
            team_rows = (
                (guild_id, "UTC" if name == BIG_GUILD else ZONES[n % len(ZONES)], now)
                for n, (name, guild_id) in enumerate(guilds.items())
            )
            team_columns = [Team.__table__.c[n] for n in ("id", "timezone", "created_at")]
            await _insert(conn, "teams", team_columns, iter(team_rows))
            athlete_rows: list[tuple[Any, ...]] = [
                (i + 1, guilds[BIG_GUILD], users[big_member(i)], big_member(i), now)
                for i in range(shape.big_athletes)
            ]
            for t in range(1, shape.teams):
                for i in range(shape.small_athletes):
                    n = len(athlete_rows) + 1
                    athlete_rows.append(
                        (n, guilds[small_guild(t)], users[small_member(t, i)], small_member(t, i), now)
                    )
            athlete_columns = [
                Athlete.__table__.c[n] for n in ("id", "team_id", "user_id", "display_name", "created_at")
            ]
            await _insert(conn, "athletes", athlete_columns, iter(athlete_rows))
            count = await _insert(conn, "run_sessions", ENTRY_COLUMNS, entries(shape, guilds, today))
            if conn.dialect.name == "postgresql":
                # Explicit athlete ids: the sequence must go on after them, or the bot's first new
                # athlete would take id 1 again.
                await conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('athletes', 'id'), "
                        "(SELECT max(id) FROM athletes))"
                    )
                )
            state = {"shape": json.loads(wanted), "today": today.isoformat(), "entries": count}
            await conn.execute(
                insert(BotState).values(
                    key=STATE_KEY, value=json.dumps(state, sort_keys=True), updated_at=now
                )
            )
        inserted = time.perf_counter() - started
        if engine.dialect.name == "postgresql":
            async with engine.connect() as conn:
                ac = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await ac.execute(text("VACUUM ANALYZE"))
        return {
            "database": engine.dialect.name,
            "built": True,
            "entries": count,
            "teams": len(guilds),
            "athletes": len(athlete_rows),
            "today": today.isoformat(),
            "insert_seconds": round(inserted, 1),
            "total_seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--force", action="store_true", help="empty the database and build again")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(build(args.database_url, force=args.force))))
