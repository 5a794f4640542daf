"""Indexes for reads that must not grow with the team or the database (issue 9): an athlete's newest
entry by id (``/undo``, the Undo button), and delivery rows by day (the daily pruning).

Revision ID: 0004_indexes_for_size
Revises: 0003_entry_ids_never_reused
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_indexes_for_size"
down_revision: str | None = "0003_entry_ids_never_reused"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_run_sessions_athlete_id_id", "run_sessions", ["athlete_id", "id"])
    op.create_index("ix_reminder_deliveries_local_day", "reminder_deliveries", ["local_day"])


def downgrade() -> None:
    op.drop_index("ix_reminder_deliveries_local_day", table_name="reminder_deliveries")
    op.drop_index("ix_run_sessions_athlete_id_id", table_name="run_sessions")
