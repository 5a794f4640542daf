"""Each athlete's backward and forward distance per calendar month, kept by the database itself
(migration 0014_month_totals), so that a year's leaderboard sums at most a dozen rows per athlete
instead of every entry of the year. Backward kinds are summed together: the default board (every
backward kind) and the forward board read these; a board of one backward kind sums its entries
(``storage/board_queries.py``).

Kept by triggers on ``run_sessions``, not by the code that writes entries: every write, whatever
its path (``/log``'s one-statement insert, ``/undo``, ``/entry edit`` and ``delete``, ``/forget-me``,
the Done button, a migration, a hand-made fix in psql), moves the month's total in the same
transaction, so the totals cannot drift from the entries. Metres are summed as whole millimetres
(integers): adding and taking away floats would leave a residue behind, and a total of exactly
zero must mean zero. A month whose last entry goes is deleted (its ``entries`` count reaches 0),
so an athlete with nothing left in the period is not on the board.

The DDL here is the migration's; :data:`TRIGGERS` per dialect name.
"""

from __future__ import annotations

from typing import Final

# Whole millimetres of one entry's effective metres, as the triggers and the backfill round them.
MM_PER_M: Final = 1000

_SQLITE_MONTH = "date({row}.day, 'start of month')"
_SQLITE_KEY = (
    "team_id = {row}.team_id AND month = "
    + _SQLITE_MONTH
    + " AND athlete_id = {row}.athlete_id AND is_backward = {row}.is_backward"
)
_SQLITE_ADD = (
    "INSERT INTO month_totals (team_id, month, athlete_id, is_backward, millimetres, entries) "
    "VALUES (NEW.team_id, " + _SQLITE_MONTH.format(row="NEW") + ", NEW.athlete_id, NEW.is_backward, "
    "CAST(round(NEW.effective_meters * 1000) AS INTEGER), 1) "
    "ON CONFLICT (team_id, month, athlete_id, is_backward) DO UPDATE SET "
    "millimetres = millimetres + excluded.millimetres, entries = entries + 1;"
)
_SQLITE_TAKE = (
    "UPDATE month_totals SET millimetres = millimetres"
    " - CAST(round(OLD.effective_meters * 1000) AS INTEGER), entries = entries - 1"
    " WHERE " + _SQLITE_KEY.format(row="OLD") + ";"
    " DELETE FROM month_totals WHERE " + _SQLITE_KEY.format(row="OLD") + " AND entries <= 0;"
)
# The columns an entry's month total depends on: an UPDATE of anything else (a note, an RPE, one
# backward kind for another) leaves the totals alone.
_COUNTED = "team_id, athlete_id, day, is_backward, effective_meters"

SQLITE_TRIGGERS: Final = (
    f"CREATE TRIGGER trg_run_sessions_month_insert AFTER INSERT ON run_sessions BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER trg_run_sessions_month_delete AFTER DELETE ON run_sessions BEGIN {_SQLITE_TAKE} END",
    f"CREATE TRIGGER trg_run_sessions_month_update AFTER UPDATE OF {_COUNTED} ON run_sessions "
    f"BEGIN {_SQLITE_TAKE} {_SQLITE_ADD} END",
)
SQLITE_DROP: Final = tuple(
    f"DROP TRIGGER IF EXISTS trg_run_sessions_month_{op}" for op in ("insert", "delete", "update")
)

_PG_KEY = (
    "team_id = {row}.team_id AND month = date_trunc('month', {row}.day)::date "
    "AND athlete_id = {row}.athlete_id AND is_backward = {row}.is_backward"
)
POSTGRES_TRIGGERS: Final = (
    f"""
CREATE FUNCTION month_totals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE month_totals
           SET millimetres = millimetres - round(OLD.effective_meters * 1000)::bigint, entries = entries - 1
         WHERE {_PG_KEY.format(row="OLD")};
        DELETE FROM month_totals WHERE {_PG_KEY.format(row="OLD")} AND entries <= 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO month_totals (team_id, month, athlete_id, is_backward, millimetres, entries)
        VALUES (NEW.team_id, date_trunc('month', NEW.day)::date, NEW.athlete_id, NEW.is_backward,
                round(NEW.effective_meters * 1000)::bigint, 1)
        ON CONFLICT (team_id, month, athlete_id, is_backward) DO UPDATE
           SET millimetres = month_totals.millimetres + EXCLUDED.millimetres,
               entries = month_totals.entries + 1;
    END IF;
    RETURN NULL;
END
$$
""",
    "CREATE TRIGGER trg_run_sessions_month_insert AFTER INSERT ON run_sessions "
    "FOR EACH ROW EXECUTE FUNCTION month_totals_follow()",
    "CREATE TRIGGER trg_run_sessions_month_delete AFTER DELETE ON run_sessions "
    "FOR EACH ROW EXECUTE FUNCTION month_totals_follow()",
    f"CREATE TRIGGER trg_run_sessions_month_update AFTER UPDATE OF {_COUNTED} ON run_sessions "
    "FOR EACH ROW EXECUTE FUNCTION month_totals_follow()",
)
POSTGRES_DROP: Final = (
    *(
        f"DROP TRIGGER IF EXISTS trg_run_sessions_month_{op} ON run_sessions"
        for op in ("insert", "delete", "update")
    ),
    "DROP FUNCTION IF EXISTS month_totals_follow()",
)

TRIGGERS: Final = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_TRIGGERS}
DROP_TRIGGERS: Final = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}


def backfill(dialect: str) -> str:
    """The statement that sums every existing entry into the month totals (the migration's)."""
    month = "date(day, 'start of month')" if dialect == "sqlite" else "date_trunc('month', day)::date"
    mm = (
        "CAST(round(effective_meters * 1000) AS INTEGER)"
        if dialect == "sqlite"
        else "round(effective_meters * 1000)::bigint"
    )
    return (
        "INSERT INTO month_totals (team_id, month, athlete_id, is_backward, millimetres, entries) "
        f"SELECT team_id, {month}, athlete_id, is_backward, sum({mm}), count(*) FROM run_sessions "
        f"GROUP BY team_id, {month}, athlete_id, is_backward"
    )
