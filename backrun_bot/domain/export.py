"""The CSV file of ``/export``: its columns, its cells, and how it fits in one Discord attachment.

Columns, one row per entry, oldest day first: ``id``, ``date`` (the training day, ISO), ``kind``,
``amount`` (as typed: ``440yd``, ``5 min``), ``meters`` (the distance given, in meters; empty for a
duration), ``seconds`` (the duration given; empty for a distance), ``counted_meters`` (what the entry
counts for in totals: the distance, or the duration at the kind's typical pace) and ``note``. A
coach's file of the whole team has ``member`` (the display name the bot last saw, so a member who
left still appears under it) and ``member_id`` (their Discord user id, which tells apart two members
of one name) after ``date``.

**Formula injection.** A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-``
or ``@`` as a formula (and a leading tab or carriage return can hide one), so a note such as
``=HYPERLINK("https://evil.example", "click")`` would become a live link in a coach's spreadsheet.
Every free-text cell (amount, note, member) that starts with one of those characters gets a leading
``'``, which spreadsheets show as text and do not run (OWASP, "CSV Injection"). Only text people
typed is touched; numbers, dates and kinds are the bot's own and never start with one.

**Size.** Discord takes at most 10 MiB of files per message from a bot in a server without boosts
(it answers 413, code 40005, beyond). A member's own history is far below that (five years of
daily entries are about 100 KB). A coach's file of a big team is not: 300 athletes with five years
of daily entries are about 550,000 rows, some 25 MB of CSV without notes. So the file is written as
plain CSV while it fits and, once it would not, gzip-compressed instead (``.csv.gz``, which every
spreadsheet program's import and every archive tool opens): the same 550,000 rows are about 4 MB.
Should even that not fit (several million rows, or long notes on every entry), the export is refused
with the sizes, rather than cut short or split over messages a coach would have to join.

The text is UTF-8 with a byte-order mark, so that Excel reads accents and emoji in names and notes
as they are (every other reader skips the mark), and lines end in CRLF as RFC 4180 says.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

# Discord's limit on the files of one message from a bot, in a server without boosts.
ATTACHMENT_LIMIT: Final = 10 * 1024 * 1024
OWN_COLUMNS: Final = ("id", "date", "kind", "amount", "meters", "seconds", "counted_meters", "note")
TEAM_COLUMNS: Final = (
    "id",
    "date",
    "member",
    "member_id",
    "kind",
    "amount",
    "meters",
    "seconds",
    "counted_meters",
    "note",
)
# What makes a spreadsheet read a cell as a formula (with tab and carriage return, which a cell may
# start with to hide one from a quick look).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
BOM: Final = "\ufeff"


def safe_cell(text: str | None) -> str:
    """Free text as a cell no spreadsheet runs: a leading ``'`` if it starts like a formula."""
    if not text:
        return ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def number(value: float | None) -> str:
    """A measure as written in the file: up to 3 decimals, no trailing zeros, empty for none."""
    if value is None:
        return ""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One entry as exported (``member`` and ``member_id`` only in a team's file)."""

    id: int
    day: date
    kind: str
    amount: str
    meters: float | None
    seconds: float | None
    counted_meters: float
    note: str | None
    member: str | None = None
    member_id: int | None = None

    def cells(self, *, team: bool) -> list[str]:
        who = [safe_cell(self.member), str(self.member_id or "")] if team else []
        return [
            str(self.id),
            self.day.isoformat(),
            *who,
            self.kind,
            safe_cell(self.amount),
            number(self.meters),
            number(self.seconds),
            number(self.counted_meters),
            safe_cell(self.note),
        ]


@dataclass(frozen=True, slots=True)
class ExportFile:
    """The finished file: its bytes (CSV, or gzip of the CSV), how many rows, the CSV's size, and
    the limit it was written for."""

    data: bytes
    gzipped: bool
    rows: int
    csv_bytes: int
    limit: int = ATTACHMENT_LIMIT

    @property
    def fits(self) -> bool:
        return len(self.data) <= self.limit


class ExportWriter:
    """Builds the file batch by batch, in bounded memory: plain CSV up to ``limit`` bytes, then the
    CSV gzip-compressed (what is written so far is compressed at the switch, the rest as it comes)."""

    def __init__(self, *, team: bool, limit: int = ATTACHMENT_LIMIT) -> None:
        self._team = team
        self._limit = limit
        self._text = io.StringIO(newline="")
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._plain = bytearray()
        self._compressed: io.BytesIO | None = None
        self._gzip: gzip.GzipFile | None = None
        self.rows = 0
        self.csv_bytes = 0
        self._text.write(BOM)
        self._csv.writerow(TEAM_COLUMNS if team else OWN_COLUMNS)
        self._flush()

    def write(self, rows: Iterable[ExportRow]) -> None:
        for row in rows:
            self._csv.writerow(row.cells(team=self._team))
            self.rows += 1
        self._flush()

    def _flush(self) -> None:
        chunk = self._text.getvalue().encode("utf-8")
        self._text.seek(0)
        self._text.truncate()
        self.csv_bytes += len(chunk)
        if self._gzip is None:
            self._plain += chunk
            if len(self._plain) <= self._limit:
                return
            # Over the limit as plain CSV: from here on, gzip (mtime 0: the same rows, the same bytes).
            self._compressed = io.BytesIO()
            self._gzip = gzip.GzipFile(fileobj=self._compressed, mode="wb", compresslevel=6, mtime=0)
            chunk, self._plain = bytes(self._plain), bytearray()
        self._gzip.write(chunk)

    def finish(self) -> ExportFile:
        if self._gzip is None:
            return ExportFile(bytes(self._plain), False, self.rows, self.csv_bytes, self._limit)
        assert self._compressed is not None
        self._gzip.close()
        return ExportFile(self._compressed.getvalue(), True, self.rows, self.csv_bytes, self._limit)
