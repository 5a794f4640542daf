"""Corrections: the use cases behind ``/entry edit`` and ``/entry delete`` (issue 10).

An entry is named by its id (``/history`` shows them as ``#12``), so any entry can be fixed, not
only the latest (``/undo``). The rules:

* An edit is the author's alone. It takes the same values ``/log`` takes and refuses what ``/log``
  refuses: the amount arrives parsed by the same transformer, the note is cleaned and bounded the
  same way, and the date is read by :func:`~backrun_bot.domain.dates.parse_day` in the team's
  timezone (not in the future, at most a year back). Volume and direction follow the kind: a
  duration-only entry counts at the new kind's pace.
* A delete is the author's, or a coach's for any entry of the team. Whether the caller is a coach is
  asked only when the entry is somebody else's, and asked on every call (a role removed a minute
  ago counts at once).
* Nothing of another server is reachable: an id of another server's entry is answered exactly like
  an id that does not exist.
* An entry deleted here is simply gone for ``/undo`` and its Undo button: both find it gone and say
  so, and ``/undo`` never removes another entry in its place (``TrainingService``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backrun_bot.domain.amounts import Amount
from backrun_bot.domain.dates import local_date, parse_day
from backrun_bot.domain.kinds import Kind
from backrun_bot.domain.text import clean_note
from backrun_bot.errors import InvalidInput, NotAllowed, NotFound
from backrun_bot.services.common import Clock, Who, utc_now
from backrun_bot.services.training import HISTORY_MAX, NOTE_MAX_LENGTH, EntryView, check_rpe
from backrun_bot.storage import queries

log = logging.getLogger(__name__)

# Entry ids are 32-bit on every backend; Discord's integer options go to 2**53, and discord.py does
# not enforce an option's declared range, so anything outside is answered as unknown before a query.
MAX_ENTRY_ID = 2**31 - 1
# The note value that removes an entry's note (Discord sends no empty option).
CLEAR_NOTE = "-"
NO_CHANGE_GIVEN = "Say what to change: amount, kind, date, note (note:- removes the note) or rpe."

CoachCheck = Callable[[], Awaitable[bool]]


def unknown_entry(entry_id: int) -> NotFound:
    return NotFound(
        f"There is no entry #{entry_id} in this server.", hint="/history shows your entries with their ids."
    )


@dataclass(frozen=True, slots=True)
class Edited:
    before: EntryView
    after: EntryView

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class Deleted:
    entry: EntryView
    author_name: str  # the stored display name of whoever logged it
    own: bool  # the caller's own entry (else a coach removed a member's)


class CorrectionService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock = utc_now) -> None:
        self._sessionmaker = sessionmaker
        self._clock = clock

    async def _find(self, s: AsyncSession, who: Who, entry_id: int) -> queries.AuthoredEntry:
        found = None
        if 1 <= entry_id <= MAX_ENTRY_ID:
            found = await queries.authored_entry(s, who.guild_id, entry_id)
        if found is None:
            raise unknown_entry(entry_id)
        return found

    async def edit(
        self,
        who: Who,
        entry_id: int,
        *,
        amount: Amount | None = None,
        kind: Kind | None = None,
        day_text: str | None = None,
        note: str | None = None,
        rpe: int | None = None,
    ) -> Edited:
        """Change the given fields of the caller's entry ``entry_id``; the entry before and after.

        Refused, with nothing changed: no field given, an unknown (or another server's) id, another
        member's entry, a note, a date or a rating ``/log`` would refuse. The amount is parsed on the
        way in. A rating may come days after the session: sRPE is "temporally robust across periods
        ranging from 1 minute to 14 days following an exercise session" (Foster et al. 2021).
        """
        if amount is None and kind is None and day_text is None and note is None and rpe is None:
            raise InvalidInput(NO_CHANGE_GIVEN)
        check_rpe(rpe)
        clear_note = note is not None and note.strip() == CLEAR_NOTE
        new_note = None if clear_note else clean_note(note)
        if new_note is not None and len(new_note) > NOTE_MAX_LENGTH:
            raise InvalidInput(f"The note is {len(new_note)} characters; keep it to {NOTE_MAX_LENGTH}.")
        async with self._sessionmaker.begin() as s:
            found = await self._find(s, who, entry_id)
            if found.user_id != who.user_id:
                raise NotAllowed(f"Entry #{entry_id} is another member's; you can only edit your own.")
            row = found.row
            before = EntryView.of(row, found.user_id)
            today = local_date(self._clock(), ZoneInfo(found.timezone))
            day = row.day if day_text is None else parse_day(day_text, today=today)
            new_kind = Kind(row.kind) if kind is None else kind
            if amount is None:
                amount = Amount(meters=row.meters, seconds=row.seconds, text=row.amount_text)
            if note is None:
                new_note = row.note
            effective = amount.effective_meters(new_kind)
            new_rpe = row.rpe if rpe is None else rpe
            if not await queries.update_entry(
                s,
                entry_id,
                kind=new_kind.value,
                is_backward=new_kind.is_backward,
                meters=amount.meters,
                seconds=amount.seconds,
                effective_meters=effective,
                amount_text=amount.text,
                note=new_note,
                day=day,
                athlete_id=row.athlete_id,
                was_on=row.day,
                rpe=new_rpe,
            ):
                raise NotFound(f"Entry #{entry_id} was deleted meanwhile; nothing was changed.")
        after = EntryView(
            id=entry_id,
            user_id=who.user_id,
            kind=new_kind,
            amount=amount.display(),
            effective_meters=effective,
            note=new_note,
            day=day,
            distance_given=amount.meters is not None,
            rpe=new_rpe,
        )
        log.info("guild %s user %s edited entry %s", who.guild_id, who.user_id, entry_id)
        return Edited(before, after)

    async def delete(self, who: Who, entry_id: int, *, is_coach: CoachCheck) -> Deleted:
        """Delete entry ``entry_id``: the caller's own, or any of the team's if ``is_coach()`` says
        the caller is a coach (asked only for somebody else's entry)."""
        async with self._sessionmaker.begin() as s:
            found = await self._find(s, who, entry_id)
            own = found.user_id == who.user_id
            if not own and not await is_coach():
                raise NotAllowed(
                    f"Entry #{entry_id} is another member's: only a coach can delete it. "
                    "You can delete your own entries."
                )
            entry = EntryView.of(found.row, found.user_id)
            if not await queries.delete_run_session(s, found.row):
                raise NotFound(f"Entry #{entry_id} is already gone.")
        log.info(
            "guild %s user %s deleted entry %s of user %s", who.guild_id, who.user_id, entry_id, found.user_id
        )
        return Deleted(entry, found.display_name, own)

    async def suggestions(self, guild_id: int, user_id: int, typed: str) -> list[EntryView]:
        """The caller's entries to offer while they type an entry id: their newest (as /history
        lists them) that match what is typed (the id's first digits, or words of the entry), with the
        entry whose id was typed in full first, even when it is older than those. At most 25
        (Discord's limit).
        """
        wanted = typed.strip().lstrip("#").strip()
        async with self._sessionmaker() as s:
            rows = await queries.history(s, guild_id, user_id, HISTORY_MAX)
            entries = [EntryView.of(r, user_id) for r in rows]
            if wanted.isdecimal() and len(wanted) <= 10 and 1 <= int(wanted) <= MAX_ENTRY_ID:
                exact = await queries.get_run_session(s, guild_id, int(wanted), user_id=user_id)
                if exact is not None and all(e.id != exact.id for e in entries):
                    entries.insert(0, EntryView.of(exact, user_id))
        if wanted.isdecimal():
            entries = [e for e in entries if str(e.id).startswith(wanted)]
            entries.sort(key=lambda e: str(e.id) != wanted)  # the id typed in full first (a stable sort)
        elif wanted:
            needle = wanted.casefold()
            entries = [e for e in entries if needle in f"{e.describe()} {e.note or ''}".casefold()]
        return entries[:HISTORY_MAX]
