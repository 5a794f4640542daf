"""The slot-group lookup by index (issue 9): one partial index per slot, (timezone, time, id) of the
teams whose reminder goes out, so that the distinct slot groups are read by seeking from one to the
next instead of scanning every team, and a group's teams are one range in id order. They replace
ix_teams_reminder_slots, which served neither the cooldowns nor the teams with reminders on only.

Built from the rows already there (nothing to backfill: an index is its table's rows).

The conditions are written out here, not taken from the models, so that this migration stays what it
was; they render as ``reminder_queries`` writes its conditions (``reminders_active IS 1`` on SQLite,
``IS true`` on PostgreSQL), which SQLite needs to use a partial index.

Revision ID: 0005_slot_group_indexes
Revises: 0004_indexes_for_size
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_slot_group_indexes"
down_revision: str | None = "0004_indexes_for_size"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = {"warmup": "warmup_time", "cooldown": "cooldown_time"}


def _goes_out(time_column: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        sa.column("reminders_active", sa.Boolean()).is_(sa.true()),
        sa.column("reminder_channel_id").is_not(None),
        sa.column("pause_reason").is_(None),
        sa.column(time_column).is_not(None),
    )


def upgrade() -> None:
    for slot, column in SLOTS.items():
        op.create_index(
            f"ix_teams_{slot}_groups",
            "teams",
            ["timezone", column, "id"],
            sqlite_where=_goes_out(column),
            postgresql_where=_goes_out(column),
        )
    op.drop_index("ix_teams_reminder_slots", table_name="teams")


def downgrade() -> None:
    op.create_index("ix_teams_reminder_slots", "teams", ["timezone", "warmup_time", "cooldown_time"])
    for slot in SLOTS:
        op.drop_index(f"ix_teams_{slot}_groups", table_name="teams")
