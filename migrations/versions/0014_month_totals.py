"""Each athlete's backward and forward distance per calendar month, kept by triggers on
``run_sessions``, so that ``/leaderboard period:year`` sums at most twelve rows per athlete, not
every entry of the year (issue 10's target: under 10 ms for a 300-athlete team with 1,000,000
entries stored; it took about 32 ms summing the covering index of migration 0010).

The triggers and the backfill are in :mod:`backrun_bot.storage.month_totals`, with why the
database keeps these totals and not the application.

Revision ID: 0014_month_totals
Revises: 0013_ladder
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backrun_bot.storage.month_totals import DROP_TRIGGERS, TRIGGERS, backfill

revision: str = "0014_month_totals"
down_revision: str | None = "0013_ladder"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "month_totals",
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("is_backward", sa.Boolean(), nullable=False),
        sa.Column("millimetres", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.id"],
            name=op.f("fk_month_totals_athlete_id_athletes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_month_totals_team_id_teams"), ondelete="CASCADE"
        ),
        # The key carries the total, so a team's months are read from the key alone on PostgreSQL
        # (the rows lie scattered over the table, written as the entries came: 3,300 rows of the
        # 1M fixture's big team over 1,571 pages; months before the current one rarely change, so
        # their pages stay all-visible and the scan needs no heap). On SQLite the rows are stored in
        # key order (WITHOUT ROWID), so a team's months are one contiguous read.
        sa.PrimaryKeyConstraint(
            "team_id",
            "month",
            "athlete_id",
            "is_backward",
            name=op.f("pk_month_totals"),
            postgresql_include=["millimetres"],
        ),
        sqlite_with_rowid=False,
    )
    dialect = op.get_bind().dialect.name
    # The triggers first, then the backfill, in this one transaction: an entry written meanwhile by
    # a running bot waits for the migration's locks, so it is counted exactly once either way.
    for statement in TRIGGERS[dialect]:
        op.execute(statement)
    op.execute(backfill(dialect))


def downgrade() -> None:
    for statement in DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("month_totals")
