"""The backward ladder's mark (issue 11): each athlete's level (1-5) and streak of weeks that
counted after a week no entry can reach any more, so that /plan replays only the last year of weeks
(``domain/ladder.py`` LadderMark, ``storage/ladder_queries.py``).

Plain ``ALTER TABLE ... ADD COLUMN`` on both databases, the level's CHECK on its column: a
table-level constraint would make SQLite rebuild ``athletes`` (batch mode) for no gain. Nothing to
backfill: without a mark /plan replays every week once and keeps one.

Revision ID: 0013_ladder
Revises: 0012_done_presses
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_ladder"
down_revision: str | None = "0012_done_presses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE athletes ADD COLUMN ladder_through DATE")
    op.execute(
        "ALTER TABLE athletes ADD COLUMN ladder_level SMALLINT "
        "CONSTRAINT ck_athletes_ladder_level_range CHECK (ladder_level BETWEEN 1 AND 5)"
    )
    op.execute("ALTER TABLE athletes ADD COLUMN ladder_streak SMALLINT")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+ drops a column with a CHECK of its own), as in 0011.
    op.execute("ALTER TABLE athletes DROP COLUMN ladder_streak")
    op.execute("ALTER TABLE athletes DROP COLUMN ladder_level")
    op.execute("ALTER TABLE athletes DROP COLUMN ladder_through")
