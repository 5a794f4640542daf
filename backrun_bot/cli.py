"""``backrun-bot run | sandbox | migrate``: the command line (``python bot.py`` is ``run``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from backrun_bot.config import Settings, load_settings
from backrun_bot.errors import ConfigError

log = logging.getLogger("backrun_bot")


class _NoVoiceWarnings(logging.Filter):
    """Backrun never joins voice, so discord.py's notes about missing voice libraries are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


def _setup_logging(level: str, *, to_stderr: bool = True) -> None:
    """Log at ``level``; to stderr unless the caller (the sandbox console) shows the log itself."""
    if to_stderr:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    else:
        logging.getLogger().setLevel(level)
    logging.getLogger("discord.client").addFilter(_NoVoiceWarnings())
    # Alembic lists every plugin it loads at INFO; its migration lines stay.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _run(settings: Settings) -> None:
    from backrun_bot.discord_app.bot import run_bot  # noqa: PLC0415 - keeps `migrate` free of discord

    asyncio.run(run_bot(settings))


def _sandbox(settings: Settings, database_url: str, log_level: str, *, fresh: bool) -> None:
    from backrun_bot.sandbox.console import run_console  # noqa: PLC0415

    if fresh:
        print(_delete_database(database_url))
    # One bot with every shard of the emulator, whatever a production .env says about SHARD_*.
    update = {"database_url": database_url, "log_level": log_level, "shard_count": None, "shard_ids": None}
    asyncio.run(run_console(settings.model_copy(update=update)))


def _delete_database(database_url: str) -> str:
    """``--fresh``: delete the sandbox's SQLite file (and its journal); returns what was done."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise ConfigError(
            "--fresh deletes a SQLite sandbox database; drop and re-create this one yourself: "
            + url.render_as_string(hide_password=True)
        )
    if not url.database or url.database == ":memory:":
        return "Starting afresh (the database is in memory)."
    path = Path(url.database)
    existed = path.exists()
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if existed:
        return f"Starting afresh: deleted the sandbox database {path}."
    return f"Starting afresh: there was no sandbox database at {path} yet."


def _migrate(settings: Settings, revision: str) -> None:
    from backrun_bot.storage.migrate import downgrade_to, upgrade_to_head  # noqa: PLC0415

    if revision == "head":
        asyncio.run(upgrade_to_head(settings.database_url))
    else:
        asyncio.run(downgrade_to(settings.database_url, revision))
    print(f"database is at {revision}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backrun-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="connect to Discord (needs DISCORD_TOKEN)")
    sandbox = sub.add_parser("sandbox", help="try the bot in a console, against a local Discord emulator")
    sandbox.add_argument(
        "--database",
        default="sqlite+aiosqlite:///backrun-sandbox.db",
        help="database for the sandbox (default: %(default)s, kept apart from the real one)",
    )
    sandbox.add_argument(
        "--log-level",
        default="WARNING",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level in the console (default: %(default)s, so the bot's replies stay readable)",
    )
    sandbox.add_argument(
        "--fresh",
        action="store_true",
        help="delete the sandbox database first: no entries, no settings, as on a first run",
    )
    migrate = sub.add_parser("migrate", help="apply migrations (head) or go back to a revision")
    migrate.add_argument("revision", nargs="?", default="head")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "sandbox":
            # The console shows the log itself, above the prompt.
            _setup_logging(args.log_level, to_stderr=False)
            _sandbox(settings, args.database, args.log_level, fresh=args.fresh)
            return 0
        _setup_logging(settings.log_level)
        if args.command == "migrate":
            _migrate(settings, args.revision)
        else:
            _run(settings)
    except ConfigError as exc:
        print(f"backrun-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
