"""Which servers a process owns: Discord's rule ``(guild_id >> 22) % shard_count``."""

from __future__ import annotations

import pytest

from backrun_bot.domain.shards import ShardSet, shard_of

# Real-looking snowflakes: the shard comes from the timestamp bits (above bit 22), not the low bits.
ON_0_OF_2 = (1_000_000 << 22) | 0x3FFFFF
ON_1_OF_2 = (1_000_001 << 22) | 0x000001
ON_2_OF_3 = (1_000_001 << 22) | 0x1234  # 1_000_001 % 3 == 2


def test_shard_of_is_discords_rule() -> None:
    assert shard_of(ON_0_OF_2, 2) == 0
    assert shard_of(ON_1_OF_2, 2) == 1
    assert shard_of(ON_2_OF_3, 3) == 2
    # The low 22 bits (worker, process, increment) never matter.
    assert shard_of((7 << 22) | 0x3FFFFF, 4) == shard_of(7 << 22, 4) == 3
    assert shard_of(7 << 22, 1) == 0


def test_a_process_owns_only_its_shards() -> None:
    first, second = ShardSet.of(2, [0]), ShardSet.of(2, [1])
    assert first.owns(ON_0_OF_2) and not first.owns(ON_1_OF_2)
    assert second.owns(ON_1_OF_2) and not second.owns(ON_0_OF_2)
    assert not first.owns_all and not second.owns_all


def test_every_server_belongs_to_exactly_one_of_a_split() -> None:
    parts = [ShardSet.of(3, [0]), ShardSet.of(3, [1, 2])]
    for guild_id in [ON_0_OF_2, ON_1_OF_2, ON_2_OF_3, *((n << 22) | n for n in range(50))]:
        assert sum(part.owns(guild_id) for part in parts) == 1


@pytest.mark.parametrize(
    "shards", [ShardSet.every(), ShardSet(), ShardSet.of(4, None), ShardSet.of(2, [1, 0])]
)
def test_all_shards_own_everything(shards: ShardSet) -> None:
    assert shards.owns_all
    assert all(shards.owns(g) for g in (ON_0_OF_2, ON_1_OF_2, ON_2_OF_3, 0, 1 << 40))


@pytest.mark.parametrize(
    ("count", "ids", "says"),
    [
        (0, [0], "at least 1"),
        (2, [], "at least one shard"),
        (2, [2], "not 2"),
        (2, [0, -1], "not -1"),
        (3, [5, 3], "from 0 to 2"),
    ],
)
def test_impossible_sets_are_refused(count: int, ids: list[int], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        ShardSet.of(count, ids)


def test_it_reads_well_in_a_log() -> None:
    assert str(ShardSet.of(2, [1])) == "shard 1 of 2"
    assert str(ShardSet.of(4, [3, 0])) == "shards 0, 3 of 4"
    assert str(ShardSet.of(2, None)) == "all 2 shards"
    assert str(ShardSet.every()) == "all 1 shard"
