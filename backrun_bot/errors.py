"""Typed errors that the services raise and the one Discord error handler turns into replies.

Framework-free: nothing here knows about Discord. Each error carries the text an athlete or a coach
should read; the adapter decides how to show it (always ephemerally for these).
"""

from __future__ import annotations


class BackrunError(Exception):
    """Base of every error whose message is meant for the person who used a command."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def user_text(self) -> str:
        """The full reply: the reason, then what would be accepted."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class InvalidInput(BackrunError):
    """Something the user typed cannot be used; nothing was changed."""


class AmountError(InvalidInput):
    """An amount such as ``400m`` or ``5 min`` could not be read, or is implausible."""


class DateError(InvalidInput):
    """A date option is unreadable, in the future, or too far back."""


class NotFound(BackrunError):
    """The thing asked for does not exist (in this server)."""


class NotAllowed(BackrunError):
    """The caller may not do this (a permission, or somebody else's entry)."""


class StorageUnavailable(BackrunError):
    """The database did not answer in time (a lock, a stalled network, a full pool) or dropped the
    connection. The transaction was rolled back, so nothing was saved; unless ``outcome_unknown``:
    the connection was lost while the database was committing, and only the database knows whether it
    did. Raised by the storage layer (``storage/engine.py``) in place of the driver's own errors."""

    NOTHING_SAVED = "The database is not answering right now; nothing was saved. Try again in a minute."
    OUTCOME_UNKNOWN = (
        "The database stopped answering while saving, so I can't tell whether it was saved. "
        "Check `/history` in a minute before trying again."
    )

    def __init__(self, *, outcome_unknown: bool = False) -> None:
        super().__init__(self.OUTCOME_UNKNOWN if outcome_unknown else self.NOTHING_SAVED)
        self.outcome_unknown = outcome_unknown


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


class DeliveryError(Exception):
    """A scheduled message could not be delivered (raised by the adapter's sender)."""


class ChannelUnavailable(DeliveryError):
    """The reminder channel is gone or the bot may not post there: that team's reminders pause."""


class MessageRefused(DeliveryError):
    """Discord refused the message itself (a 4xx such as AutoMod's block): sending the same text
    again would be refused again, so it is recorded as failed rather than retried."""
