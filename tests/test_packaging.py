"""The declared dependencies, the lock files and the imports agree.

Every third-party package that ``backrun_bot`` imports must be declared in ``pyproject.toml`` (not
arrive by chance as somebody else's dependency), every declared range must have an upper bound, and
every declared package must be pinned, inside its range, in both lock files, which pin each package
to one version with hashes.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKS = {"dev": ROOT / "requirements" / "dev.txt", "run": ROOT / "requirements" / "run.txt"}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)")


def _declared(*extras: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def _pins(lock: Path) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def _third_party_imports() -> set[str]:
    """Top-level module names imported anywhere in backrun_bot/ that are neither ours nor stdlib."""
    names: set[str] = set()
    for path in (ROOT / "backrun_bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n != "backrun_bot" and n not in sys.stdlib_module_names}


def test_every_imported_package_is_declared() -> None:
    declared = {canonicalize_name(r.name) for r in _declared("postgres")}
    distributions = importlib.metadata.packages_distributions()
    missing = {
        module: distributions.get(module)
        for module in _third_party_imports()
        if not {canonicalize_name(d) for d in distributions.get(module, [module])} & declared
    }
    assert missing == {}, "imported but not declared in [project] dependencies"


def test_every_range_has_an_upper_bound() -> None:
    unbounded = [
        str(r)
        for r in _declared(*PYPROJECT["project"]["optional-dependencies"])
        if not any(s.operator in ("<", "<=", "==", "~=") for s in r.specifier)
    ]
    assert unbounded == []


@pytest.mark.parametrize(
    ("lock", "extras"), [("dev", ("dev", "postgres")), ("run", ("postgres",))], ids=["dev", "run"]
)
def test_the_lock_pins_every_declared_package_inside_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pins = _pins(LOCKS[lock])
    problems = []
    for req in _declared(*extras):
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req.name} is not pinned in {LOCKS[lock].name}")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req.name}=={pinned} is outside {req.specifier}")
    assert problems == []


def test_both_locks_agree_and_carry_hashes() -> None:
    dev, run = _pins(LOCKS["dev"]), _pins(LOCKS["run"])
    assert {name: (run[name], dev.get(name)) for name in run if dev.get(name) != run[name]} == {}
    for lock in LOCKS.values():
        text = lock.read_text()
        assert text.count("--hash=sha256:") >= len(_pins(lock)), f"{lock.name} is not hash-pinned"
