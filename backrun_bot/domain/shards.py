"""Which Discord servers one bot process serves, as a plain value.

Discord splits a bot's servers into shards: server ``guild_id`` belongs to shard
``(guild_id >> 22) % shard_count``, and each gateway connection receives only its shard's events and
interactions. Several processes can split the shards among them (``SHARD_COUNT`` and ``SHARD_IDS``);
each must then send the scheduled reminders of its own servers only, and it decides that with
:meth:`ShardSet.owns` (and the storage layer with the same rule in SQL), never by asking discord.py.
"""

from __future__ import annotations

from dataclasses import dataclass


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that server ``guild_id`` belongs to, by Discord's rule."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class ShardSet:
    """Shards ``ids`` out of ``count``: the servers a process connects to and reminds.

    The default, one shard of one, owns every server, as does any set that holds all the shards
    (one process running them all).
    """

    count: int = 1
    ids: frozenset[int] = frozenset({0})

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"a shard count is at least 1, not {self.count}")
        if not self.ids:
            raise ValueError("a process must own at least one shard")
        outside = sorted(i for i in self.ids if not 0 <= i < self.count)
        if outside:
            raise ValueError(
                f"shard ids run from 0 to {self.count - 1} when there are {self.count} shards, "
                f"not {', '.join(map(str, outside))}"
            )

    @classmethod
    def every(cls) -> ShardSet:
        """Every server: a process that is the only one."""
        return cls()

    @classmethod
    def of(cls, count: int, ids: tuple[int, ...] | list[int] | frozenset[int] | None) -> ShardSet:
        """Shards ``ids`` of ``count``; all of them when ``ids`` is None."""
        return cls(count, frozenset(range(count) if ids is None else ids))

    @property
    def owns_all(self) -> bool:
        """Whether every server is this process's (then nothing needs filtering)."""
        return len(self.ids) == self.count

    def owns(self, guild_id: int) -> bool:
        """Whether server ``guild_id`` is on one of these shards."""
        return self.owns_all or shard_of(guild_id, self.count) in self.ids

    def __str__(self) -> str:
        if self.owns_all:
            return f"all {self.count} shard{'s' if self.count != 1 else ''}"
        plural = "s" if len(self.ids) != 1 else ""
        return f"shard{plural} {', '.join(map(str, sorted(self.ids)))} of {self.count}"
