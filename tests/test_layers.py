"""The layers stay where the README puts them: the rules import neither discord nor sqlalchemy, only
the Discord adapter (and the emulator that stands in for Discord) imports discord, the services
do not know the scheduler (it is told about settings changes through a callback), only
``observability/`` knows Prometheus (the services report reminder outcomes through a callback), and
only ``charts/`` knows matplotlib: pictures drawn from what the rules computed, by code that knows
neither Discord nor the database (the adapter runs it in a worker thread and attaches the bytes)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "backrun_bot"


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    """Top-level packages ``path`` imports (``discord`` for ``from discord.ext import commands``)."""
    return {m.split(".")[0] for m in imported_modules(path)}


def modules_in(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules_in("domain"), ids=lambda p: p.name)
def test_the_rules_are_plain_python(path: Path) -> None:
    assert not imported_roots(path) & {
        "discord",
        "sqlalchemy",
        "alembic",
        "apscheduler",
        "aiohttp",
        "prometheus_client",
    }
    ours = {m for m in imported_modules(path) if m.startswith("backrun_bot.")}
    assert all(m.startswith(("backrun_bot.domain", "backrun_bot.errors")) for m in ours), ours


@pytest.mark.parametrize("path", modules_in("charts"), ids=lambda p: p.name)
def test_the_charts_are_presentation_without_a_framework(path: Path) -> None:
    assert not imported_roots(path) & {
        "discord",
        "sqlalchemy",
        "alembic",
        "apscheduler",
        "aiohttp",
        "prometheus_client",
    }
    ours = {m for m in imported_modules(path) if m.startswith("backrun_bot.")}
    assert all(
        m.startswith(("backrun_bot.domain", "backrun_bot.errors", "backrun_bot.charts")) for m in ours
    ), ours


OUTSIDE_THE_CHARTS = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "charts")


@pytest.mark.parametrize("path", OUTSIDE_THE_CHARTS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_charts_import_matplotlib(path: Path) -> None:
    assert not imported_roots(path) & {"matplotlib", "PIL", "numpy"}


OUTSIDE_THE_ADAPTER = sorted(
    p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in {"discord_app", "sandbox"}
)


@pytest.mark.parametrize("path", OUTSIDE_THE_ADAPTER, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_adapter_and_the_emulator_import_discord(path: Path) -> None:
    assert "discord" not in imported_roots(path)


@pytest.mark.parametrize("path", modules_in("storage", "services", "scheduling"), ids=lambda p: p.name)
def test_inner_layers_do_not_reach_for_the_adapter(path: Path) -> None:
    assert not any(
        m.startswith(("backrun_bot.discord_app", "backrun_bot.sandbox")) for m in imported_modules(path)
    )


@pytest.mark.parametrize("path", modules_in("services"), ids=lambda p: p.name)
def test_services_do_not_reach_for_the_scheduler(path: Path) -> None:
    assert "apscheduler" not in imported_roots(path)
    assert not any(m.startswith("backrun_bot.scheduling") for m in imported_modules(path))


def test_what_every_service_shares_depends_on_no_service() -> None:
    ours = {m for m in imported_modules(PACKAGE / "services" / "common.py") if m.startswith("backrun_bot.")}
    assert not any(m.startswith("backrun_bot.services") for m in ours), ours


@pytest.mark.parametrize("path", modules_in("sandbox/emulator"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_emulator_knows_nothing_of_backrun_or_the_driver(path: Path) -> None:
    """The emulator stands in for Discord: of ours it imports only itself (not the bot, the driver
    that acts on it, nor the console)."""
    emulator = "backrun_bot.sandbox.emulator"
    ours = {m for m in imported_modules(path) if m.split(".")[0] == "backrun_bot"}
    assert all(m == emulator or m.startswith(emulator + ".") for m in ours), ours


OUTSIDE_OBSERVABILITY = sorted(
    p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "observability"
)


@pytest.mark.parametrize("path", OUTSIDE_OBSERVABILITY, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_observability_imports_prometheus(path: Path) -> None:
    assert "prometheus_client" not in imported_roots(path)


def test_the_metric_definitions_import_only_prometheus() -> None:
    """``observability/metrics.py`` is plain: whoever counts gets a ``Metrics`` handed to them."""
    roots = imported_roots(PACKAGE / "observability" / "metrics.py") - set(sys.stdlib_module_names)
    assert roots == {"prometheus_client"}
