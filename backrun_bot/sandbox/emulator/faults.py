"""Injected failures: 429 rate limits, 5xx server errors and 4xx refusals on chosen requests.

A fault matches on the HTTP method and on the request path below ``/api/v10`` (without the query),
with :func:`re.fullmatch` — ``r"/channels/\\d+/messages"`` matches sending a message, not editing
one. Each fault answers its next ``times`` matching requests and then is used up; faults are tried
in the order they were added. Every request a fault answered is recorded in :attr:`Faults.fired`,
so a test can assert that the failure it set up really happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    status: int
    retry_after: float = 0.0
    global_: bool = False
    code: int = 0
    message: str = ""
    after_handling: bool = False  # the request takes effect, then the error is the answer

    @property
    def is_rate_limit(self) -> bool:
        return self.status == 429


@dataclass(frozen=True)
class Fired:
    """One request answered by a fault: its method, its path below ``/api/v10`` and the status sent."""

    method: str
    path: str
    status: int


class Faults:
    """What :attr:`DiscordEmulator.faults` holds; see the module docstring."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        # Every request a fault answered, oldest first, so a test can check its fault really fired.
        self.fired: list[Fired] = []

    @property
    def injected(self) -> int:
        """How many requests were answered by a fault."""
        return len(self.fired)

    def rate_limit(
        self, method: str, path_regex: str, retry_after: float = 0.5, times: int = 1, global_: bool = False
    ) -> None:
        """The next ``times`` matching requests get 429 with ``retry_after`` (seconds), as Discord
        sends it: JSON body, ``Retry-After``, ``X-RateLimit-*`` and ``Via: 1.1 google`` headers."""
        self._faults.append(Fault(method.upper(), re.compile(path_regex), times, 429, retry_after, global_))

    def server_error(
        self, method: str, path_regex: str, status: int = 502, times: int = 1, *, after_handling: bool = False
    ) -> None:
        """The next ``times`` matching requests get ``status`` (a 5xx) instead of an answer.

        ``after_handling``: each request takes effect first (a message is stored and shown) and only
        the answer is lost, as when Discord's edge times out on a request its backend completed.
        """
        if not 500 <= status <= 599:
            raise ValueError("server_error takes a 5xx status")
        self._faults.append(
            Fault(method.upper(), re.compile(path_regex), times, status, after_handling=after_handling)
        )

    def client_error(
        self,
        method: str,
        path_regex: str,
        status: int = 400,
        code: int = 200000,
        message: str = "Message was blocked by automatic moderation",
        times: int = 1,
    ) -> None:
        """The next ``times`` matching requests are refused with ``status`` (a 4xx other than 429)
        and Discord's JSON error ``code`` — by default what a server's AutoMod answers."""
        if not 400 <= status <= 499 or status == 429:
            raise ValueError("client_error takes a 4xx status other than 429 (see rate_limit)")
        self._faults.append(
            Fault(method.upper(), re.compile(path_regex), times, status, code=code, message=message)
        )

    def clear(self) -> None:
        self._faults.clear()

    @property
    def pending(self) -> int:
        """Requests still to be answered by a fault."""
        return sum(f.remaining for f in self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault answering this request, if any (and count it used)."""
        for fault in self._faults:
            if fault.method == method.upper() and fault.pattern.fullmatch(path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                self.fired.append(Fired(method.upper(), path, fault.status))
                return fault
        return None
