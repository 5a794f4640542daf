"""Entry ids are never reused on SQLite (AUTOINCREMENT), so an old Undo button cannot reach a newer
entry that got the id of an undone one.

Revision ID: 0003_entry_ids_never_reused
Revises: 0002_reminders
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_entry_ids_never_reused"
down_revision: str | None = "0002_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild_run_sessions(*, autoincrement: bool) -> None:
    # Only SQLite reuses ids; PostgreSQL's sequences never do, so nothing changes there.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "run_sessions", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild_run_sessions(autoincrement=True)


def downgrade() -> None:
    _rebuild_run_sessions(autoincrement=False)
