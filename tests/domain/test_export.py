"""The /export file: cells no spreadsheet runs, numbers as written, plain CSV until the limit and
gzip after it, the same bytes for the same rows."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backrun_bot.domain.export import (
    OWN_COLUMNS,
    TEAM_COLUMNS,
    ExportRow,
    ExportWriter,
    number,
    safe_cell,
)


def parse(data: bytes, *, gzipped: bool = False) -> list[list[str]]:
    raw = gzip.decompress(data) if gzipped else data
    assert raw.startswith("\ufeff".encode())  # the byte-order mark Excel needs for UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def row(n: int, note: str | None = "easy", member: str | None = None) -> ExportRow:
    return ExportRow(
        n, date(2026, 3, 8), "backward", "400m", 400.0, None, 400.0, note, member, 7 if member else None
    )


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_starts_like_a_formula_is_quoted_as_text(start: str) -> None:
    assert (
        safe_cell(f'{start}HYPERLINK("https://evil.example")')
        == f'\'{start}HYPERLINK("https://evil.example")'
    )


@pytest.mark.parametrize("text", ["easy", "5 = 5", "a+b", "'quoted", "😀 fast", " =not at the start"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert safe_cell(text) == text


@given(st.text())
def test_no_cell_starts_like_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.removeprefix("'") == text or cell == text


def test_numbers_are_written_plainly() -> None:
    assert [number(v) for v in (400.0, 402.336, 1234.5678, 0.0, None, 50_000.0)] == [
        "400",
        "402.336",
        "1234.568",
        "0",
        "",
        "50000",
    ]


def test_own_and_team_files_have_their_columns_and_guarded_cells() -> None:
    own = ExportWriter(team=False)
    rated = dataclasses.replace(row(2, note=None), rpe=7)
    own.write([row(1, note="=1+1"), rated])
    file = own.finish()
    assert not file.gzipped and file.rows == 2 and file.fits
    assert parse(file.data) == [
        list(OWN_COLUMNS),
        ["1", "2026-03-08", "backward", "400m", "400", "", "400", "", "'=1+1"],
        ["2", "2026-03-08", "backward", "400m", "400", "", "400", "7", ""],
    ]
    team = ExportWriter(team=True)
    team.write([row(3, member="@everyone")])
    assert parse(team.finish().data) == [
        list(TEAM_COLUMNS),
        ["3", "2026-03-08", "'@everyone", "7", "backward", "400m", "400", "", "400", "", "easy"],
    ]


def test_a_note_with_commas_quotes_and_line_breaks_reads_back_whole() -> None:
    writer = ExportWriter(team=False)
    writer.write([row(1, note='said "go", then\r\nwent')])
    assert parse(writer.finish().data)[1][-1] == 'said "go", then\r\nwent'


def test_the_file_is_plain_up_to_the_limit_and_gzipped_past_it() -> None:
    rows = [row(n, note="x" * 50) for n in range(1000)]
    plain = ExportWriter(team=False)
    plain.write(rows)
    size = len(plain.finish().data)

    exactly = ExportWriter(team=False, limit=size)
    exactly.write(rows[:500])
    exactly.write(rows[500:])
    at_limit = exactly.finish()
    assert not at_limit.gzipped and len(at_limit.data) == size

    over = ExportWriter(team=False, limit=size - 1)
    for start in range(0, 1000, 100):  # the switch falls inside the last batch; nothing is lost
        over.write(rows[start : start + 100])
    zipped = over.finish()
    assert zipped.gzipped and zipped.rows == 1000 and zipped.csv_bytes == size
    assert len(zipped.data) < size / 5
    assert parse(zipped.data, gzipped=True) == parse(at_limit.data)


def test_the_same_rows_make_the_same_bytes() -> None:
    def build() -> bytes:
        writer = ExportWriter(team=True, limit=100)
        writer.write([row(n, member="alice") for n in range(50)])
        return writer.finish().data

    assert build() == build()


def test_a_file_too_big_even_compressed_does_not_fit() -> None:
    writer = ExportWriter(team=False, limit=10)
    writer.write([row(n) for n in range(10)])
    file = writer.finish()
    assert file.gzipped and not file.fits


def test_a_file_too_big_for_one_message_comes_in_parts_that_each_fit_and_read_back_whole() -> None:
    rows = [row(n, note=f"session {n} " + "abcdefghij"[n % 10] * (n % 37)) for n in range(6000)]
    writer = ExportWriter(team=True, limit=16_000, check_every=50)
    for start in range(0, len(rows), 1700):
        writer.write(rows[start : start + 1700])
    file = writer.finish()
    assert file.gzipped and len(file.parts) > 2 and file.fits
    assert all(len(part) <= 16_000 for part in file.parts)
    read = [parse(part, gzipped=True) for part in file.parts]
    assert all(part[0] == list(TEAM_COLUMNS) for part in read)  # each a whole CSV, header and all
    assert [r[0] for part in read for r in part[1:]] == [str(n) for n in range(6000)]  # none lost, in order
    assert file.rows == 6000 and file.size == sum(map(len, file.parts))


def test_too_many_parts_do_not_fit() -> None:
    writer = ExportWriter(team=True, limit=2_000, check_every=20)
    writer.write([row(n, note="x" * (n % 97)) for n in range(20_000)])
    file = writer.finish()
    assert len(file.parts) > 10 and not file.fits
