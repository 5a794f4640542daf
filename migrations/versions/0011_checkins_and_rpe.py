"""What issue 11 keeps: how hard an entry felt (``run_sessions.rpe``, CR-10, 1-10; Foster et al.
2001) and each athlete's daily check-in (soreness 0-10, where, sleep 1-5, a note; one a day, a
second replaces the first).

``rpe`` is added with a column-level CHECK in plain ``ALTER TABLE ... ADD COLUMN``, which SQLite and
PostgreSQL both accept: a table-level constraint would make SQLite rebuild ``run_sessions`` (batch
mode), and the rebuilt table would lose ``AUTOINCREMENT`` (migration 0003), so that ids of undone
entries could be handed out again. Nothing to backfill: an entry without a rating gets its kind's
default in the load model.

Revision ID: 0011_checkins_and_rpe
Revises: 0010_board
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backrun_bot.storage.models import UTCDateTime

revision: str = "0011_checkins_and_rpe"
down_revision: str | None = "0010_board"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE run_sessions ADD COLUMN rpe SMALLINT "
        "CONSTRAINT ck_run_sessions_rpe_range CHECK (rpe BETWEEN 1 AND 10)"
    )
    op.create_table(
        "checkins",
        sa.Column("athlete_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("soreness", sa.SmallInteger(), nullable=False),
        sa.Column("area", sa.String(16), server_default="none", nullable=False),
        sa.Column("sleep", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("soreness BETWEEN 0 AND 10", name=op.f("ck_checkins_soreness_range")),
        sa.CheckConstraint("sleep IS NULL OR sleep BETWEEN 1 AND 5", name=op.f("ck_checkins_sleep_range")),
        sa.ForeignKeyConstraint(
            ["athlete_id"], ["athletes.id"], name=op.f("fk_checkins_athlete_id_athletes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_checkins_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("athlete_id", "day", name=op.f("pk_checkins")),
    )
    op.create_index("ix_checkins_team_day", "checkins", ["team_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_checkins_team_day", table_name="checkins")
    op.drop_table("checkins")
    # Plain DROP COLUMN on both (SQLite 3.35+ drops a column with a CHECK of its own); batch mode
    # would rebuild the table without AUTOINCREMENT, as above.
    op.execute("ALTER TABLE run_sessions DROP COLUMN rpe")
