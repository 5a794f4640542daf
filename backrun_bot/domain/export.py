"""The CSV file of ``/export``: its columns, its cells, and how it fits in one Discord attachment.

Columns, one row per entry, oldest day first: ``id``, ``date`` (the training day, ISO), ``kind``,
``amount`` (as typed: ``440yd``, ``5 min``), ``meters`` (the distance given, in meters; empty for a
duration), ``seconds`` (the duration given; empty for a distance), ``counted_meters`` (what the entry
counts for in totals: the distance, or the duration at the kind's typical pace), ``rpe`` (how hard it
felt, 1-10 on the CR-10 scale; empty when not rated) and ``note``. A
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
daily entries are about 90 KB). A coach's file of a big team is not: 300 athletes with five years
of daily entries are 547,500 rows, 41 MB of CSV without notes. So the file is written as plain CSV
while it fits and, once it would not, gzip-compressed instead (``.csv.gz``, which spreadsheet
imports, macOS and Windows 11 open): those rows are 8.4 MB. A team bigger still, or with long notes
everywhere, gets its file in parts, each a whole ``.csv.gz`` of its own (header and all; the oldest
days in the first) that fits one message, rather than a file cut short: the same team with a
200-character note of random words on every entry is 148 MB of CSV, 60 MB compressed, 6 parts
(``benchmarks/bench_export.py``). Past :data:`MAX_PARTS` parts (some 6 million entries without
notes) the export is refused with the sizes. (xz would make the big team's file 2 MB, but took 67 s
to write and few coaches could open it; deflate at level 9 instead of 6 saves 0.2 %.)

The text is UTF-8 with a byte-order mark, so that Excel reads accents and emoji in names and notes
as they are (every other reader skips the mark), and lines end in CRLF as RFC 4180 says.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

# Discord's limit on the files of one message from a bot, in a server without boosts.
ATTACHMENT_LIMIT: Final = 10 * 1024 * 1024
# A team's file in more parts than this (some 6 million entries) is refused rather than sent.
MAX_PARTS: Final = 10
# How often (in rows) the writer looks at the size of what it has written. A part can overshoot the
# limit only if these many rows compressed were more than half of it: 500 rows are about 40 KB of
# CSV, 8 KB compressed (at most some 500 KB with 200-character notes that do not compress).
CHECK_EVERY: Final = 500
OWN_COLUMNS: Final = ("id", "date", "kind", "amount", "meters", "seconds", "counted_meters", "rpe", "note")
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
    "rpe",
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
    rpe: int | None = None

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
            "" if self.rpe is None else str(self.rpe),
            safe_cell(self.note),
        ]


@dataclass(frozen=True, slots=True)
class ExportFile:
    """The finished export: one or more parts (each a whole CSV with its header: plain, or gzip of
    it), how many rows in all, the CSV's size in all, and the limit each part was written for."""

    parts: tuple[bytes, ...]
    gzipped: bool
    rows: int
    csv_bytes: int
    limit: int = ATTACHMENT_LIMIT

    @property
    def data(self) -> bytes:
        """The file, when there is one part (the usual case)."""
        (only,) = self.parts
        return only

    @property
    def size(self) -> int:
        return sum(map(len, self.parts))

    @property
    def fits(self) -> bool:
        """Whether every part fits one Discord message, and there are not too many of them."""
        return len(self.parts) <= MAX_PARTS and all(len(p) <= self.limit for p in self.parts)


class ExportWriter:
    """Builds the file in bounded steps: plain CSV up to ``limit`` bytes; past it, the CSV
    gzip-compressed (what was written so far compressed at the switch, the rest as it comes); and
    once a compressed part nears ``limit``, a new part begins (a whole CSV again, header and all),
    so that each fits one message. Rows go in whole: a part ends between two rows."""

    def __init__(self, *, team: bool, limit: int = ATTACHMENT_LIMIT, check_every: int = CHECK_EVERY) -> None:
        self._team = team
        self._limit = limit
        self._check_every = check_every
        self._text = io.StringIO(newline="")
        self._csv = csv.writer(self._text, lineterminator="\r\n")
        self._parts: list[bytes] = []
        self._plain = bytearray()
        self._compressed: io.BytesIO | None = None
        self._gzip: gzip.GzipFile | None = None
        # The compressed part's size at the last look, and the most it grew between two looks: a
        # part is closed while one more such step still fits under the limit (twice it, to spare).
        self._size = 0
        self._step = 0
        self.gzipped = False
        self.rows = 0
        self.csv_bytes = 0
        self._header()

    def _header(self) -> None:
        self._text.write(BOM)
        self._csv.writerow(TEAM_COLUMNS if self._team else OWN_COLUMNS)

    def write(self, rows: Iterable[ExportRow]) -> None:
        for written, row in enumerate(rows, 1):
            self._csv.writerow(row.cells(team=self._team))
            self.rows += 1
            if written % self._check_every == 0:
                self._flush()
        self._flush()

    def _take_text(self) -> bytes:
        chunk = self._text.getvalue().encode("utf-8")
        self._text.seek(0)
        self._text.truncate()
        self.csv_bytes += len(chunk)
        return chunk

    def _flush(self) -> None:
        chunk = self._take_text()
        if not self.gzipped:
            self._plain += chunk
            if len(self._plain) <= self._limit:
                return
            # Over the limit as plain CSV: from here on, gzip, starting with what was written so far.
            self.gzipped = True
            self._open_part()
            self._compress(bytes(self._plain))
            self._plain = bytearray()
            return
        grew = self._compress(chunk)
        self._step = max(self._step, grew)
        if self._size + 2 * self._step > self._limit:
            self._close_part()
            self._open_part()
            self._header()
            self._compress(self._take_text())

    def _compress(self, chunk: bytes) -> int:
        """Compress ``chunk`` into the part and flush zlib (a sync flush: its output so far is all
        in the part, so its size is exact; it costs 0.3 % of the size); how much the part grew."""
        assert self._gzip is not None and self._compressed is not None
        self._gzip.write(chunk)
        self._gzip.flush(zlib.Z_SYNC_FLUSH)
        size = self._compressed.tell()
        grew, self._size = size - self._size, size
        return grew

    def _open_part(self) -> None:
        self._size = 0
        self._compressed = io.BytesIO()
        # mtime 0: the same rows make the same bytes.
        self._gzip = gzip.GzipFile(fileobj=self._compressed, mode="wb", compresslevel=6, mtime=0)

    def _close_part(self) -> None:
        assert self._gzip is not None and self._compressed is not None
        self._gzip.close()
        self._parts.append(self._compressed.getvalue())
        self._gzip = self._compressed = None

    def finish(self) -> ExportFile:
        if not self.gzipped:
            return ExportFile((bytes(self._plain),), False, self.rows, self.csv_bytes, self._limit)
        self._close_part()
        return ExportFile(tuple(self._parts), True, self.rows, self.csv_bytes, self._limit)
