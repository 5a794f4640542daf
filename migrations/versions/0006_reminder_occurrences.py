"""The occurrence ledger (issue 9): one row per occurrence of a slot group (timezone, local time,
slot, local day) that the processes serving a shard set finished, so that the catch-up at start
runs only the occurrences of its look-back still unsettled instead of every one of them.

A new table, nothing to backfill: with no rows, the first start after the upgrade runs its whole
look-back once, as before, and from then on each finished occurrence is recorded.

Revision ID: 0006_reminder_occurrences
Revises: 0005_slot_group_indexes
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backrun_bot.storage.models import UTCDateTime

revision: str = "0006_reminder_occurrences"
down_revision: str | None = "0005_slot_group_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_occurrences",
        sa.Column("shards", sa.String(200), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("at", sa.String(5), nullable=False),
        sa.Column("slot", sa.String(16), nullable=False),
        sa.Column("instant", UTCDateTime(), nullable=False),
        sa.Column("settled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "shards", "local_day", "timezone", "at", "slot", name=op.f("pk_reminder_occurrences")
        ),
    )


def downgrade() -> None:
    op.drop_table("reminder_occurrences")
