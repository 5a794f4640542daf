"""The container files agree with the project (no Docker engine here, so they are read, not run):
the image installs the lock file hash-checked and starts the console script pyproject declares, as a
user other than root, and the build context never carries a .env (the bot token) into the image."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_the_image_installs_the_lock_file_then_the_project_without_resolving_anything() -> None:
    runs = [arg for op, arg in instructions() if op == "RUN"]
    assert any("--require-hashes" in r and "--no-deps" in r and "-r requirements/run.txt" in r for r in runs)
    assert any("--no-deps" in r and "--no-build-isolation" in r and " -e ." in r for r in runs)
    assert (ROOT / "requirements" / "run.txt").is_file()


def test_it_runs_the_declared_script_as_a_user_not_root() -> None:
    ops = instructions()
    cmd = json.loads(next(arg for op, arg in ops if op == "CMD"))
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert cmd == ["backrun-bot", "run"] and cmd[0] in scripts
    users = [arg for op, arg in ops if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    # USER comes after the installs (they need root) and before CMD.
    order = [op for op, _ in ops]
    assert order.index("USER") > max(i for i, op in enumerate(order) if op == "RUN")


def test_the_build_context_leaves_out_env_files_and_what_the_bot_does_not_need() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".git", ".venv", "*.db"} <= ignored
    # What the image copies must not be ignored.
    copied = {part for op, arg in instructions() if op == "COPY" for part in arg.split()[:-1]}
    assert copied and not copied & ignored


def test_compose_runs_two_shards_of_two_on_postgresql() -> None:
    text = (ROOT / "compose.yaml").read_text()
    assert re.search(r'SHARD_COUNT: "2"', text)
    assert sorted(re.findall(r'SHARD_IDS: "(\d+)"', text)) == ["0", "1"]
    assert "DATABASE_URL: postgresql+asyncpg://" in text
    assert "${DISCORD_TOKEN:?" in text  # from .env, and compose refuses to start without it
