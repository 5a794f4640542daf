"""Settings: the one place the environment (and ``.env``) is read.

Every setting is documented in ``.env.example``. The token is a :class:`SecretStr`, so printing or
logging the settings never shows it.
"""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backrun_bot.domain.shards import ShardSet
from backrun_bot.errors import ConfigError

DISCORD_API_URL = "https://discord.com/api/v10"
SHARDS_NEED_POSTGRES = (
    "SHARD_IDS needs PostgreSQL: several processes cannot share a SQLite file safely. "
    "Use DATABASE_URL=postgresql+asyncpg://… or leave SHARD_IDS unset."
)


class Settings(BaseSettings):
    """Backrun's settings, read from the environment or a ``.env`` file in the working directory."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="The bot token.")
    database_url: str = Field(default="sqlite+aiosqlite:///backrun.db")
    discord_api_url: str = Field(default=DISCORD_API_URL)
    log_level: str = Field(default="INFO")
    # How long after its time a missed reminder is still sent (issue 3).
    reminder_grace_minutes: int = Field(default=120, ge=0, le=24 * 60)
    # How long a reminder being sent may stay unconfirmed before another run (this process after a
    # failure, a restarted one after a crash, or a second copy) takes it over (services/delivery.py).
    # It must outlast one send, retries included; lowering it only makes recovery after a crash quicker.
    reminder_claim_lease_seconds: int = Field(default=120, ge=1, le=3600)
    # How many days the reminder delivery ledger keeps (pruned daily at 03:17 UTC). Exactly-once
    # needs a row only until its grace window is over: at most a day past a local day that may be
    # 14 hours off UTC, so 7 is a safe floor. The rest is history ("did Monday's warmup go out?").
    reminder_ledger_days: int = Field(default=90, ge=7, le=3650)
    # How many days a server's data is kept after the bot was removed from it (services/retention.py):
    # a server that adds the bot back within that time finds everything as it was; after it, the
    # daily job at 03:17 UTC deletes the team and everything of it. At least a day (a kick by
    # mistake is undone within minutes), at most a year (data nobody can reach is not kept forever).
    retention_days: int = Field(default=30, ge=1, le=365)

    # Time limits on the database, in seconds (backrun_bot/storage/engine.py). A command not answered
    # within 2 s is deferred ("thinking…"), so these bound how long an athlete waits before the
    # answer or "the database is not answering". Backrun's statements take milliseconds: 5 s means
    # a lock or an outage, not a slow query.
    database_connect_timeout: float = Field(default=5.0, gt=0, le=60)  # PostgreSQL
    database_statement_timeout: float = Field(default=5.0, gt=0, le=300)  # SQLite: lock wait
    database_pool_timeout: float = Field(default=5.0, gt=0, le=60)
    database_pool_recycle: float = Field(default=1800.0, ge=30, le=24 * 3600)  # PostgreSQL

    # Health and metrics (GET /healthz, GET /metrics): off unless HEALTH_PORT is set. The host
    # defaults to loopback because the endpoint has no authentication and /metrics tells anyone who
    # can reach it how busy the bot is; listening on 0.0.0.0 (say, in a container whose port only the
    # orchestrator's probes and Prometheus can reach) is a deployment choice, made explicitly.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = Field(default="127.0.0.1", min_length=1)

    # Several processes (shards). SHARD_COUNT splits the servers into that many shards (unset: as many
    # as Discord recommends, all in this process); SHARD_IDS (e.g. "0,1") are the ones this process
    # connects to and sends reminders for (unset: all of them). A server belongs to shard
    # (guild_id >> 22) % SHARD_COUNT. SHARD_IDS means other processes share the database, so it
    # needs PostgreSQL (checked when the bot starts: check_shards_backend).
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    # Discord's global rate limit for the bot token, requests per second (50 unless Discord raised
    # it for this bot). Reminders and other proactive sends are paced to this process's share of it
    # (its shards out of SHARD_COUNT), less 4 % headroom: discord_app/pacing.py.
    global_rate_limit: int = Field(default=50, ge=1, le=100_000)

    @field_validator("discord_token", mode="before")
    @classmethod
    def _blank_token(cls, value: object) -> object:
        # `DISCORD_TOKEN=` as copied from .env.example means "not set".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("health_port", mode="before")
    @classmethod
    def _blank_port(cls, value: object) -> object:
        # `HEALTH_PORT=` as in .env.example means "off".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_count", mode="before")
    @classmethod
    def _blank_count(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # From the environment: "0,1" (spaces allowed); blank means "all of them".
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        parts = [part.strip() for part in value.split(",")]
        if not all(part.isdecimal() for part in parts):
            raise ValueError(f"must be shard numbers separated by commas, e.g. 0,1 (not {value.strip()!r})")
        return tuple(int(part) for part in parts)

    @field_validator("shard_ids")
    @classmethod
    def _ids_in_range(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("name at least one shard, e.g. 0, or leave it unset for all of them")
        repeated = sorted({i for i in value if value.count(i) > 1})
        if repeated:
            raise ValueError(f"names shard {', '.join(map(str, repeated))} more than once")
        if "shard_count" not in info.data:
            return value  # SHARD_COUNT itself is wrong and reported
        count = info.data["shard_count"]
        if count is None:
            raise ValueError("needs SHARD_COUNT, the number of shards they are out of (e.g. SHARD_COUNT=2)")
        outside = [i for i in value if not 0 <= i < count]
        if outside:
            raise ValueError(
                f"shard {', '.join(map(str, outside))} does not exist: with SHARD_COUNT={count} "
                f"the shards are 0 to {count - 1}"
            )
        return tuple(sorted(value))

    @property
    def shards(self) -> ShardSet:
        """The servers this process serves: every one unless SHARD_IDS names some shards."""
        if self.shard_count is None:
            return ShardSet.every()
        return ShardSet.of(self.shard_count, self.shard_ids)

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check_shards_backend(self) -> None:
        """Refuse SHARD_IDS on SQLite: other processes would open the same file, and SQLite's locking
        is not made for several bots writing at once (nor works across machines or containers)."""
        if self.shard_ids is not None and self.uses_sqlite:
            raise ConfigError(SHARDS_NEED_POSTGRES)

    @field_validator("discord_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. https://discord.com/api/v10")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be an async URL: sqlite+aiosqlite:///backrun.db or postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in logging.getLevelNamesMapping():
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return value


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one line that says what to fix."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper() or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"Bad setting: {problems}. See .env.example.") from None
