"""SHARD_COUNT and SHARD_IDS: read from the environment, checked, and turned into the ShardSet the
reminders go by; SHARD_IDS on SQLite is refused with one line."""

from __future__ import annotations

import pytest

from backrun_bot.config import SHARDS_NEED_POSTGRES, Settings, load_settings
from backrun_bot.domain.shards import ShardSet
from backrun_bot.errors import ConfigError

POSTGRES = "postgresql+asyncpg://backrun@db/backrun"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHARD_COUNT", "SHARD_IDS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def settings_from_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(_env_file=None)


def test_unset_means_one_process_with_every_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from_env(monkeypatch)
    assert settings.shard_count is None and settings.shard_ids is None
    assert settings.shards == ShardSet.every()
    settings.check_shards_backend()  # SQLite, the default: fine


def test_blank_values_as_copied_from_env_example_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from_env(monkeypatch, SHARD_COUNT="", SHARD_IDS=" ")
    assert settings.shard_count is None and settings.shard_ids is None


def test_ids_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from_env(monkeypatch, SHARD_COUNT="4", SHARD_IDS=" 3, 1 ", DATABASE_URL=POSTGRES)
    assert settings.shard_count == 4
    assert settings.shard_ids == (1, 3)
    assert settings.shards == ShardSet(4, frozenset({1, 3}))
    settings.check_shards_backend()  # PostgreSQL: fine


def test_a_count_alone_runs_all_its_shards_here(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from_env(monkeypatch, SHARD_COUNT="3")
    assert settings.shards == ShardSet.of(3, None) and settings.shards.owns_all
    settings.check_shards_backend()  # one process: SQLite is fine


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS: Value error, needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS: Value error, shard 2 does not exist"),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "0,5,1"},
            "shard 5 does not exist: with SHARD_COUNT=2 the shards are 0 to 1",
        ),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "SHARD_IDS: Value error, names shard 1 more than once"),
        ({"SHARD_COUNT": "3", "SHARD_IDS": "0,2,0,2"}, "names shard 0, 2 more than once"),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "-1"},
            "SHARD_IDS: Value error, must be shard numbers separated by commas",
        ),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "0;1"},
            "must be shard numbers separated by commas, e.g. 0,1 (not '0;1')",
        ),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,"}, "must be shard numbers"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT: Input should be greater than or equal to 1"),
        ({"SHARD_COUNT": "two", "SHARD_IDS": "0"}, "SHARD_COUNT: Input should be a valid integer"),
    ],
)
def test_bad_shard_settings_say_what_to_fix(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_env(monkeypatch, DATABASE_URL=POSTGRES, **env)
    message = str(raised.value)
    assert says in message
    assert "\n" not in message


def test_a_wrong_count_is_reported_once_not_again_through_the_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_env(monkeypatch, SHARD_COUNT="two", SHARD_IDS="0")
    assert "SHARD_IDS" not in str(raised.value)


def test_ids_given_in_code_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="more than once"):
        load_settings(_env_file=None, shard_count=2, shard_ids=[1, 1])
    assert load_settings(_env_file=None, shard_count=2, shard_ids=[1]).shard_ids == (1,)


@pytest.mark.parametrize("ids", ["0", "0,1"])
def test_shard_ids_on_sqlite_are_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, ids: str) -> None:
    settings = settings_from_env(monkeypatch, SHARD_COUNT="2", SHARD_IDS=ids)
    assert settings.database_url.startswith("sqlite")
    with pytest.raises(ConfigError) as raised:
        settings.check_shards_backend()
    assert str(raised.value) == SHARDS_NEED_POSTGRES
    assert SHARDS_NEED_POSTGRES.startswith("SHARD_IDS needs PostgreSQL")
    assert "\n" not in SHARDS_NEED_POSTGRES
