"""Kinds: values are a storage and slash-command contract; paces drive duration-only entries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backrun_bot.domain import kinds as kinds_module
from backrun_bot.domain.kinds import KIND_CHOICES, Kind


def test_values_are_the_stored_contract() -> None:
    assert [k.value for k in Kind] == [
        "backward",
        "backpedal",
        "backward-skip",
        "backward-jog",
        "backward-walk",
        "backward-sprint",
        "forward",
    ]
    assert Kind("backward-jog") is Kind.BACKWARD_JOG
    assert str(Kind.BACKWARD) == "backward"  # StrEnum: formats as its value
    assert f"{Kind.BACKPEDAL}" == "backpedal"


def test_only_forward_is_not_backward() -> None:
    assert [k for k in Kind if not k.is_backward] == [Kind.FORWARD]
    assert Kind.BACKWARD_WALK.is_backward


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (Kind.BACKWARD, "backward run"),
        (Kind.BACKPEDAL, "backpedal"),
        (Kind.BACKWARD_SKIP, "backward skip"),
        (Kind.BACKWARD_JOG, "backward jog"),
        (Kind.BACKWARD_WALK, "backward walk"),
        (Kind.BACKWARD_SPRINT, "backward sprint"),
        (Kind.FORWARD, "forward run"),
    ],
)
def test_labels(kind: Kind, label: str) -> None:
    assert kind.label == label


@pytest.mark.parametrize(
    ("kind", "pace"),
    [
        (Kind.BACKWARD, 420.0),
        (Kind.BACKPEDAL, 400.0),
        (Kind.BACKWARD_SKIP, 480.0),
        (Kind.BACKWARD_JOG, 540.0),
        (Kind.BACKWARD_WALK, 900.0),
        (Kind.BACKWARD_SPRINT, 250.0),
        (Kind.FORWARD, 330.0),
    ],
)
def test_paces(kind: Kind, pace: float) -> None:
    assert kind.pace_s_per_km == pace


def test_pace_table_in_docstring_matches_the_code() -> None:
    doc = kinds_module.__doc__
    assert doc is not None
    for kind in Kind:
        row = next(line for line in doc.splitlines() if line.startswith(f"{kind.value} "))
        assert row.split()[1] == f"{kind.pace_s_per_km:g}"


def test_choices_follow_enum_order_and_fit_discord() -> None:
    assert KIND_CHOICES[0] == ("Backward run", "backward")
    assert KIND_CHOICES[-1] == ("Forward run", "forward")
    assert [value for _, value in KIND_CHOICES] == [k.value for k in Kind]
    assert all(1 <= len(name) <= 100 and 1 <= len(value) <= 100 for name, value in KIND_CHOICES)
    assert len({name for name, _ in KIND_CHOICES}) == len(KIND_CHOICES)


def test_domain_imports_neither_discord_nor_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import backrun_bot.domain.amounts, backrun_bot.domain.dates\n"
        "import backrun_bot.domain.kinds, backrun_bot.domain.stats\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('discord', 'sqlalchemy')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
