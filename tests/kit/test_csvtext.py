"""CSV for people: what each value becomes in a cell, and formulas kept as text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from carebase.kit.csvtext import csv_lines, spreadsheet_cell


def test_cells_read_as_written() -> None:
    assert spreadsheet_cell(None) == ""
    assert spreadsheet_cell(True) == "true"
    assert spreadsheet_cell(0) == "0"
    assert spreadsheet_cell(date(2026, 11, 29)) == "2026-11-29"
    assert spreadsheet_cell(datetime(2026, 11, 29, 9, tzinfo=UTC)) == "2026-11-29T09:00:00+00:00"
    assert spreadsheet_cell({"b": 1, "a": [2]}) == '{"a":[2],"b":1}'


def test_text_that_would_start_a_formula_stays_text() -> None:
    for text in ("=HYPERLINK(1)", "+61400", "-1", "@sum", "\tx"):
        assert spreadsheet_cell(text) == "'" + text
    assert spreadsheet_cell(-1) == "-1"  # numbers are not text a spreadsheet would run


def test_lines_round_trip_through_a_csv_reader() -> None:
    rows = [["key", "message"], ["a,b", 'said "no"\nthen left']]
    text = csv_lines(rows)
    assert text.endswith("\r\n")
    assert list(csv.reader(io.StringIO(text))) == rows
