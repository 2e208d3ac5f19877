"""What an Activity tab shows, independent of HTML: KPIs, tables (each also a CSV) and
charts (each with its table). Values stay raw (seconds, fractions); the template and the
CSV writer format them by the column's kind, so both show the same numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from carebase.activity.timebuckets import Window
from carebase.kit.csvtext import csv_lines, spreadsheet_cell
from carebase.web import format as fmt

# Column kinds: text, count, duration (seconds), percent (a fraction 0 to 1), number (mean).
TEXT, COUNT, DURATION, PERCENT, NUMBER = "text", "count", "duration", "percent", "number"


@dataclass(frozen=True)
class Column:
    """A table column: its heading and how its values read."""

    label: str
    kind: str = TEXT

    @property
    def csv_label(self) -> str:
        """The heading in a CSV, with its unit."""
        unit = {DURATION: " (min)", PERCENT: " (%)"}.get(self.kind, "")
        return self.label + unit


@dataclass
class Table:
    """A table with a name (the CSV's `table=`), a caption, columns and rows of raw values."""

    name: str
    caption: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = "Nothing in this range."

    def csv(self) -> str:
        """The table as CSV text: durations in minutes, fractions in percent."""
        lines = [[c.csv_label for c in self.columns]]
        lines += [
            [spreadsheet_cell(csv_value(v, c.kind)) for v, c in zip(row, self.columns, strict=True)]
            for row in self.rows
        ]
        return csv_lines(lines)


def csv_value(value: Any, kind: str) -> Any:
    """A raw value as a CSV cell shows it."""
    if value is None:
        return None
    if kind == DURATION:
        return round(float(value) / 60, 1)
    if kind == PERCENT:
        return round(float(value) * 100, 1)
    if kind == NUMBER:
        return round(float(value), 2)
    return value


def cell_text(value: Any, kind: str) -> str:
    """A raw value as the page shows it."""
    if value is None:
        return "\u2014"
    if kind == DURATION:
        return fmt.duration(float(value))
    if kind == PERCENT:
        return f"{float(value) * 100:.1f} %"
    if kind == NUMBER:
        return f"{float(value):.1f}"
    if kind == COUNT:
        return f"{int(value):,}"
    return str(value)


@dataclass(frozen=True)
class Kpi:
    """A headline number with its label and, optionally, a line of detail."""

    label: str
    value: Any
    kind: str = COUNT
    detail: str = ""

    @property
    def text(self) -> str:
        """The value as shown."""
        return cell_text(self.value, self.kind)


@dataclass(frozen=True)
class Series:
    """One dataset of a chart: its legend label, its values and its colour key."""

    label: str
    values: list[float | int | None]
    colour: str


@dataclass
class Chart:
    """A chart: kind (line or bar), axis titles, labels, series, and the table behind it."""

    id: str
    title: str
    kind: str
    x_title: str
    y_title: str
    labels: list[str]
    series: list[Series]
    table: Table
    stacked: bool = False
    # Per label: whether it falls on a Saturday or Sunday (shaded on daily charts).
    weekend: list[bool] = field(default_factory=list)
    description: str = ""
    # Counts: whole-number ticks on the value axis.
    integers: bool = True

    def data_json(self) -> Markup:
        """The chart's data for activity.js, safe inside a `<script type=application/json>`."""
        payload = {
            "kind": self.kind,
            "stacked": self.stacked,
            "x_title": self.x_title,
            "y_title": self.y_title,
            "labels": self.labels,
            "weekend": self.weekend,
            "integers": self.integers,
            "series": [
                {"label": s.label, "values": s.values, "colour": s.colour} for s in self.series
            ],
        }
        text = json.dumps(payload, separators=(",", ":"))
        # `<`, `>` and `&` escaped: the JSON can never close its script element.
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return Markup(text)  # noqa: S704  (escaped above)


@dataclass(frozen=True)
class Axis:
    """The time axis of a window: one label per bucket and which fall on a weekend."""

    labels: list[str]
    weekend: list[bool]
    title: str


def time_axis(window: Window) -> Axis:
    """The window's buckets as chart labels (dates, or date and hour when hourly)."""
    labels, weekend = [], []
    for bucket in window.buckets():
        day = date.fromisoformat(bucket.label[:10])
        labels.append(bucket.label if window.hourly else bucket.label[:10])
        weekend.append(day.weekday() >= 5)
    title = "Hour (report time zone)" if window.hourly else "Day (report time zone)"
    return Axis(labels, weekend, title)


def point_values(points: list[dict[str, Any]] | None, size: int) -> list[Any]:
    """A report's points (`{"value": v, ...}` per bucket) as a list of `size` values."""
    values = [p.get("value") for p in (points or [])]
    return (values + [None] * size)[:size]


@dataclass
class TabView:
    """Everything a tab shows."""

    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    # Reports not available (not registered): named so the page can say so.
    missing: list[str] = field(default_factory=list)
    note: str = ""

    def table(self, name: str) -> Table | None:
        """A table or chart table by its name."""
        for table in [*self.tables, *(c.table for c in self.charts)]:
            if table.name == name:
                return table
        return None


def ratio(part: float | None, whole: float | None) -> float | None:
    """part / whole, or None when either is missing or whole is 0."""
    if part is None or not whole:
        return None
    return float(part) / float(whole)


def name_of(row: dict[str, Any]) -> str:
    """An agent's name from a report row."""
    name = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
    return name or f"User {row.get('user_id')}"


def words(state: str) -> str:
    """A workflow state in words: `in_progress` → `In progress`."""
    text = state.replace("_", " ")
    return text[:1].upper() + text[1:]
