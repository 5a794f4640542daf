"""The team's (team_id, day) index also carries the athlete, backward or not, the kind and the
effective metres (issue 10), so the leaderboard sums a period of a whole team from the index alone.

A team's entries lie scattered over the table (every server logs at the end of practice, all at
once), and without this each entry of the period was a table row to fetch: on a copy of the 1M-entry
fixture with its rows in random order (SQLite) the board of the 300-athlete team took 2.6 ms for a
week, 12 ms for a month and 144 ms for a year through the old index, and 0.5, 1.7 and 24 ms through
this one. Same leading columns, so every read that used the old index uses this one (the warmup's
screen of who ran backward on a day becomes index-only too).

Revision ID: 0010_board
Revises: 0009_teams_and_coaches
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_board"
down_revision: str | None = "0009_teams_and_coaches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERING = ["team_id", "day", "athlete_id", "is_backward", "kind", "effective_meters"]


def upgrade() -> None:
    op.drop_index("ix_run_sessions_team_day", table_name="run_sessions")
    op.create_index("ix_run_sessions_team_day", "run_sessions", COVERING)


def downgrade() -> None:
    op.drop_index("ix_run_sessions_team_day", table_name="run_sessions")
    op.create_index("ix_run_sessions_team_day", "run_sessions", ["team_id", "day"])
