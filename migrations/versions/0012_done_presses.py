"""The Done button (issue 11): ``done_presses``, one row per athlete and reminder (local day, slot)
with the entries the press logged; and on ``reminder_deliveries`` the Done count's edit claim
(``done_edit_at``, the count shown in ``done_shown``), so that copies of the bot edit a reminder at
most once per interval between them.

Plain ``ALTER TABLE ... ADD COLUMN`` / ``DROP COLUMN`` on both databases (as 0011): batch mode would
rebuild the table on SQLite.

Revision ID: 0012_done_presses
Revises: 0011_checkins_and_rpe
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backrun_bot.storage.models import UTCDateTime

revision: str = "0012_done_presses"
down_revision: str | None = "0011_checkins_and_rpe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "done_presses",
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(16), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_ids", sa.String(200), nullable=False),
        sa.Column("pressed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.id"],
            name=op.f("fk_done_presses_athlete_id_athletes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_done_presses_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("athlete_id", "local_day", "slot", name=op.f("pk_done_presses")),
    )
    op.create_index("ix_done_presses_team_day_slot", "done_presses", ["team_id", "local_day", "slot"])
    op.add_column("reminder_deliveries", sa.Column("done_edit_at", UTCDateTime(), nullable=True))
    op.add_column("reminder_deliveries", sa.Column("done_shown", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE reminder_deliveries DROP COLUMN done_shown")
    op.execute("ALTER TABLE reminder_deliveries DROP COLUMN done_edit_at")
    op.drop_index("ix_done_presses_team_day_slot", table_name="done_presses")
    op.drop_table("done_presses")
