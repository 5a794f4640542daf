"""Settings: the one place the environment (and ``.env``) is read.

Every setting is documented in ``.env.example``. The token is a :class:`SecretStr`, so printing or
logging the settings never shows it.
"""

from __future__ import annotations

import logging

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backrun_bot.errors import ConfigError

DISCORD_API_URL = "https://discord.com/api/v10"


class Settings(BaseSettings):
    """Backrun's settings, read from the environment or a ``.env`` file in the working directory."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = Field(default=None, description="The bot token.")
    database_url: str = Field(default="sqlite+aiosqlite:///backrun.db")
    discord_api_url: str = Field(default=DISCORD_API_URL)
    log_level: str = Field(default="INFO")
    # How long after its time a missed reminder is still sent (issue 3).
    reminder_grace_minutes: int = Field(default=120, ge=0, le=24 * 60)

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
