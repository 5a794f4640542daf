"""``backrun-bot run | sandbox | migrate``: the command line (``python bot.py`` is ``run``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from backrun_bot.config import Settings, load_settings
from backrun_bot.errors import ConfigError

log = logging.getLogger("backrun_bot")


class _NoVoiceWarnings(logging.Filter):
    """Backrun never joins voice, so discord.py's notes about missing voice libraries are noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logging.getLogger("discord.client").addFilter(_NoVoiceWarnings())
    # Alembic lists every plugin it loads at INFO; its migration lines stay.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _run(settings: Settings) -> None:
    from backrun_bot.discord_app.bot import run_bot  # noqa: PLC0415 - keeps `migrate` free of discord

    asyncio.run(run_bot(settings))


def _sandbox(settings: Settings, database_url: str) -> None:
    from backrun_bot.sandbox.console import run_console  # noqa: PLC0415

    asyncio.run(run_console(settings.model_copy(update={"database_url": database_url})))


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
        help="log level in the console (default: %(default)s, so the bot's replies stay readable)",
    )
    migrate = sub.add_parser("migrate", help="apply migrations (head) or go back to a revision")
    migrate.add_argument("revision", nargs="?", default="head")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        _setup_logging(args.log_level if args.command == "sandbox" else settings.log_level)
        if args.command == "sandbox":
            _sandbox(settings, args.database)
        elif args.command == "migrate":
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
