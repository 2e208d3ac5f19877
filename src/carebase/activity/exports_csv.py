"""The rows of the `mention_sla_export` CSV: pure functions from one mention's columns and
its batch's look-ups to cells, so the file's contents are tested without a database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from carebase.kit.csvtext import csv_lines, spreadsheet_cell

HEADER: tuple[str, ...] = (
    "Mention ID",
    "Published At (UTC)",
    "Account",
    "Source Type",
    "Customer Username",
    "Customer Fullname",
    "Agent Name",
    "State",
    "Classifications",
    "In Queue (min)",
    "Agent Response (min)",
    "Customer Wait (min)",
    "Within Customer SLA",
    "Within Agent SLA",
    "Response At (UTC)",
    "Last Action At (UTC)",
    "Customer Message",
    "Agent Response",
    "Agent Notes",
    "Customer Note",
)
JOIN = " | "


@dataclass
class Lookups:
    """What one batch of mentions needs from other tables, fetched in bulk."""

    # user id → "First Last"
    names: dict[int, str] = field(default_factory=dict)
    # mention id → the text of its first sent public response
    first_response: dict[str, str] = field(default_factory=dict)
    # mention id → its private notes, oldest first
    notes: dict[str, list[str]] = field(default_factory=dict)
    # mention id → its classifications' names, by name
    classifications: dict[str, list[str]] = field(default_factory=dict)
    # profile id → the profile's notes, oldest first
    profile_notes: dict[str, list[str]] = field(default_factory=dict)


def minutes_cell(seconds: float | None) -> str:
    """Seconds as minutes to two decimals; empty when not measured."""
    if seconds is None:
        return ""
    return f"{round(seconds / 60, 2):.2f}"


def within_cell(broke: bool | None) -> str:
    """`Yes` when the SLA held, `No` when it broke, empty before any response."""
    if broke is None:
        return ""
    return "No" if broke else "Yes"


def time_cell(instant: datetime | None) -> str:
    """A UTC instant as `2018-04-01 13:00:00`; empty when absent."""
    if instant is None:
        return ""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def text_cell(value: str | None) -> str:
    """Text a spreadsheet shows as written (a leading `=`, `+`, `-`, `@` is not a formula)."""
    return spreadsheet_cell(value)


def mention_row(mention: Mapping[str, Any], found: Lookups) -> list[str]:
    """One CSV row: `mention` has the mentions columns the export selects. A forgotten
    mention keeps its timings and states but none of its content."""
    mention_id = str(mention["id"])
    forgotten = bool(mention["forgotten"])
    agent = mention["first_responder_id"] or mention["assignee_id"]
    profile_id = mention["profile_id"]
    content: list[str | None]
    if forgotten:
        content = [None, None, None, None, None, None]
    else:
        content = [
            mention["author_username"],
            mention["author_fullname"],
            mention["body"],
            found.first_response.get(mention_id),
            JOIN.join(found.notes.get(mention_id, [])) or None,
            JOIN.join(found.profile_notes.get(profile_id, [])) if profile_id else None,
        ]
    username, fullname, body, response, notes, profile_notes = content
    return [
        text_cell(mention_id),
        time_cell(mention["published_at"]),
        text_cell(mention["account"]),
        text_cell(mention["source_type"]),
        text_cell(username),
        text_cell(fullname),
        text_cell(found.names.get(agent) if agent is not None else None),
        text_cell(mention["state"]),
        text_cell(JOIN.join(found.classifications.get(mention_id, [])) or None),
        minutes_cell(mention["queue_s"]),
        minutes_cell(mention["action_s"]),
        minutes_cell(mention["response_s"]),
        within_cell(mention["broke_sla"]),
        within_cell(mention["broke_action_sla"]),
        time_cell(mention["first_response_at"]),
        time_cell(mention["state_at"]),
        text_cell(body),
        text_cell(response),
        text_cell(notes),
        text_cell(profile_notes or None),
    ]


def header_text() -> str:
    """The header line."""
    return csv_lines([HEADER])


def rows_text(mentions: Sequence[Any], found: Lookups) -> str:
    """The CSV lines of one batch."""
    return csv_lines(mention_row(mention, found) for mention in mentions)
