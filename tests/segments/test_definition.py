"""Definitions: the shape, the canonical form, and errors that name the node's path."""

from __future__ import annotations

from typing import Any

import pytest

from carebase.errors import ValidationFailed
from carebase.segments import fields
from carebase.segments.definition import (
    MAX_DEPTH,
    MAX_LEAVES,
    definition_json,
    parse_definition,
    referenced_segments,
)

ISSUE_EXAMPLE: dict[str, Any] = {
    "type": "group",
    "op": "and",
    "children": [
        {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 3},
        {
            "type": "event",
            "event": "customer_support_ticket",
            "window_days": 120,
            "count": {"op": "gte", "value": 2},
            "where": {
                "type": "group",
                "op": "and",
                "children": [
                    {
                        "type": "event_field",
                        "field": "satisfaction_score",
                        "op": "eq",
                        "value": "bad",
                    }
                ],
            },
        },
    ],
}


def problems(data: object, limit: int = 120) -> dict[str, str]:
    """{path: reason} of every problem parse_definition reports."""
    with pytest.raises(ValidationFailed) as raised:
        parse_definition(data, window_limit_days=limit)
    return {each["field"]: each["reason"] for each in raised.value.details}


def with_child(child: dict[str, Any]) -> dict[str, Any]:
    """The issue's example with one more child (children[2])."""
    return {**ISSUE_EXAMPLE, "children": [*ISSUE_EXAMPLE["children"], child]}


def with_where(*conditions: dict[str, Any]) -> dict[str, Any]:
    """An event condition whose where holds these conditions."""
    return {
        "type": "event",
        "event": "customer_support_ticket",
        "where": {"type": "group", "op": "and", "children": list(conditions)},
    }


def test_the_issue_example_parses_and_its_canonical_form_is_stable() -> None:
    node = parse_definition(ISSUE_EXAMPLE, window_limit_days=120)
    canonical = definition_json(node)
    assert canonical == {"version": 1, **ISSUE_EXAMPLE}
    again = parse_definition(canonical, window_limit_days=120)
    assert definition_json(again) == canonical


def test_defaults_and_normalised_values_are_filled_in() -> None:
    node = parse_definition(
        {
            "type": "group",
            "op": "or",
            "children": [
                {"type": "event", "event": "purchase"},
                {
                    "type": "attribute",
                    "field": "last_ticket_date",
                    "op": "gte",
                    "value": "2026-11-01T10:00:00+10:00",
                },
                {
                    "type": "attribute",
                    "field": "total_spend",
                    "op": "gt",
                    "value": {"currency": "aud", "amount": 500},
                },
                {"type": "attribute", "field": "country", "op": "is_set", "value": None},
            ],
        },
        window_limit_days=90,
    )
    children = definition_json(node)["children"]
    assert children[0] == {
        "type": "event",
        "event": "purchase",
        "window_days": 90,
        "count": {"op": "gte", "value": 1},
    }
    assert children[1]["value"] == "2026-11-01T00:00:00Z"
    assert children[2]["value"] == {"currency": "AUD", "amount": 500}
    assert children[3] == {"type": "attribute", "field": "country", "op": "is_set"}


@pytest.mark.parametrize(
    ("child", "path", "reason"),
    [
        (
            {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 3, "extra": 1},
            "definition.children[2].extra",
            "is not a field of this node",
        ),
        (
            {"type": "attribute", "field": "no_such", "op": "eq", "value": 1},
            "definition.children[2].field",
            "is not an attribute",
        ),
        (
            {"type": "attribute", "field": "tags", "op": "gte", "value": 3},
            "definition.children[2].op",
            "'gte' does not apply to a string list",
        ),
        (
            {"type": "attribute", "field": "country", "op": "within_last_days", "value": 3},
            "definition.children[2].op",
            "does not apply to a string",
        ),
        (
            {"type": "attribute", "field": "ticket_count", "op": "between", "value": [1]},
            "definition.children[2].value",
            "two values",
        ),
        (
            {"type": "attribute", "field": "ticket_count", "op": "between", "value": [5, 1]},
            "definition.children[2].value",
            "low ≤ high",
        ),
        (
            {"type": "attribute", "field": "country", "op": "in", "value": []},
            "definition.children[2].value",
            "non-empty list",
        ),
        (
            {"type": "attribute", "field": "ticket_count", "op": "eq", "value": "3"},
            "definition.children[2].value",
            "whole number",
        ),
        (
            {"type": "attribute", "field": "ticket_count", "op": "eq", "value": True},
            "definition.children[2].value",
            "whole number",
        ),
        (
            {"type": "attribute", "field": "country", "op": "is_set", "value": "AU"},
            "definition.children[2].value",
            "must be absent",
        ),
        (
            {"type": "attribute", "field": "last_ticket_date", "op": "gt", "value": "2026-01-01"},
            "definition.children[2].value",
            "time zone",
        ),
        (
            {
                "type": "attribute",
                "field": "last_ticket_date",
                "op": "within_last_days",
                "value": 0,
            },
            "definition.children[2].value",
            "whole number of days",
        ),
        (
            {"type": "attribute", "field": "total_spend", "op": "gt", "value": 500},
            "definition.children[2].value",
            '"currency"',
        ),
        (
            {
                "type": "attribute",
                "field": "total_spend",
                "op": "between",
                "value": [{"currency": "AUD", "amount": 1}, {"currency": "USD", "amount": 9}],
            },
            "definition.children[2].value",
            "same currency",
        ),
        (
            {"type": "attribute", "field": "last_satisfaction_score", "op": "gt", "value": "bad"},
            "definition.children[2].value",
            "must be a number",
        ),
        (
            {"type": "attribute", "field": "top_categories", "op": "is_set"},
            "definition.children[2].field",
            "purchase events",
        ),
        (
            {"type": "attribute", "field": "custom_fields", "op": "is_set"},
            "definition.children[2].field",
            "custom_fields.<key>",
        ),
        (
            {"type": "attribute", "field": "custom_fields.a'b", "op": "is_set"},
            "definition.children[2].field",
            "is not an attribute",
        ),
        (
            {"type": "event", "event": "ticket"},
            "definition.children[2].event",
            "customer_support_ticket",
        ),
        (
            {"type": "event", "event": "customer_support_ticket", "window_days": 121},
            "definition.children[2].window_days",
            "between 1 and 120",
        ),
        (
            {"type": "event", "event": "purchase", "count": {"op": "between", "value": 1}},
            "definition.children[2].count.op",
            "input should be",
        ),
        (
            {"type": "event", "event": "purchase", "count": {"op": "gte", "value": -1}},
            "definition.children[2].count.value",
            "greater than or equal to 0",
        ),
        (
            with_where({"type": "event_field", "field": "tags", "op": "gte", "value": 3}),
            "definition.children[2].where.children[0].op",
            "does not apply to a string list",
        ),
        (
            with_where({"type": "event_field", "field": "subject", "op": "eq", "value": "x"}),
            "definition.children[2].where.children[0].field",
            "not a field of customer_support_ticket",
        ),
        (
            with_where(
                {"type": "event_field", "field": "status", "op": "eq", "value": "open"},
                {"type": "event_field", "field": "duration", "op": "between", "value": 5},
            ),
            "definition.children[2].where.children[1].value",
            "two values",
        ),
        (
            with_where({"type": "not", "child": {"type": "attribute", "field": "x", "op": "eq"}}),
            "definition.children[2].where.children[0].child.type",
            "must be one of",
        ),
        ({"type": "segmnt"}, "definition.children[2].type", "must be one of"),
        (
            {
                "type": "group",
                "op": "at_least",
                "min": 3,
                "children": [{"type": "segment", "segment_id": "s"}],
            },
            "definition.children[2].min",
            "between 1 and the number of children (1)",
        ),
        (
            {
                "type": "group",
                "op": "at_least",
                "children": [{"type": "segment", "segment_id": "s"}],
            },
            "definition.children[2].min",
            "required",
        ),
        (
            {
                "type": "group",
                "op": "and",
                "min": 1,
                "children": [{"type": "segment", "segment_id": "s"}],
            },
            "definition.children[2].min",
            "only for op at_least",
        ),
        (
            {"type": "group", "op": "and", "children": []},
            "definition.children[2].children",
            "at least 1",
        ),
        ({"type": "not"}, "definition.children[2].child", "required"),
    ],
)
def test_problems_name_the_node_path(child: dict[str, Any], path: str, reason: str) -> None:
    found = problems(with_child(child))
    assert path in found, found
    assert reason in found[path]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            "type": "group",
            "op": "or",
            "children": [
                {"type": "attribute", "field": "tags", "op": "gte", "value": 3},
                with_where({"type": "event_field", "field": "duration", "op": "gt", "value": "x"}),
            ],
        }
    )
    assert set(found) == {
        "definition.children[0].op",
        "definition.children[1].where.children[0].value",
    }


def test_the_window_limit_is_the_installations() -> None:
    event = {"type": "event", "event": "customer_support_ticket", "window_days": 60}
    assert "definition.window_days" in problems(event, limit=30)
    assert parse_definition(event, window_limit_days=60)


def test_version_and_root_shape() -> None:
    assert problems({"version": 2, **ISSUE_EXAMPLE}) == {
        "definition.version": "must be 1, the version this carebase reads"
    }
    assert "definition" in problems([ISSUE_EXAMPLE])
    assert "definition" in problems("group")


def test_depth_and_leaf_limits() -> None:
    node: dict[str, Any] = {"type": "segment", "segment_id": "s"}
    for _ in range(MAX_DEPTH - 1):
        node = {"type": "not", "child": node}
    assert parse_definition(node, window_limit_days=120)
    found = problems({"type": "not", "child": node})
    assert any(f"deeper than {MAX_DEPTH}" in reason for reason in found.values())
    # Hostile nesting is refused before it is walked.
    for _ in range(5000):
        node = {"type": "not", "child": node}
    assert problems(node) == {"definition": f"nests deeper than {MAX_DEPTH} levels"}
    leaves = [{"type": "segment", "segment_id": f"s{n}"} for n in range(MAX_LEAVES + 1)]
    found = problems({"type": "group", "op": "or", "children": leaves})
    assert found == {
        "definition": f"has {MAX_LEAVES + 1} conditions; at most {MAX_LEAVES} are allowed"
    }


def test_referenced_segments_are_found_everywhere() -> None:
    node = parse_definition(
        {
            "type": "group",
            "op": "and",
            "children": [
                {"type": "segment", "segment_id": "seg_a"},
                {"type": "not", "child": {"type": "segment", "segment_id": "seg_b"}},
                {
                    "type": "group",
                    "op": "at_least",
                    "min": 1,
                    "children": [{"type": "segment", "segment_id": "seg_a"}],
                },
            ],
        },
        window_limit_days=120,
    )
    assert referenced_segments(node) == {"seg_a", "seg_b"}


def test_the_ticket_event_offers_the_twelve_searchable_properties() -> None:
    ticket = fields.event_type("customer_support_ticket")
    assert ticket is not None
    assert ticket.time_field == "created_at"
    reference = {
        "title",
        "created_at",
        "closed_at",
        "duration",
        "reply_time",
        "first_reply_time",
        "channel_type",
        "channel_name",
        "status",
        "tags",
        "agents",
        "satisfaction_score",
    }
    assert reference <= {field.name for field in ticket.fields}
    lists = {field.name for field in ticket.fields if field.type == fields.STRING_LIST}
    assert lists == {"channel_type", "channel_name", "tags", "agents"}
    assert all(
        "contains" in f.operators and "in" in f.operators for f in ticket.fields if f.name in lists
    )


def test_event_types_come_from_the_record_type_registry() -> None:
    names = [event.name for event in fields.event_types()]
    assert names[:3] == ["customer_support_ticket", "purchase", "return"]
    assert {"email_send", "email_open", "email_click", "sms_send", "sms_subscribe"} <= set(names)
    assert "customer_record" not in names
    subscribe = fields.event_type("email_subscribe")
    assert subscribe is not None
    status = subscribe.field("status")
    assert status is not None
    assert "unsubscribed" in status.choices


def test_every_queryable_attribute_has_operators_and_the_others_say_why() -> None:
    from carebase.attributes.catalogue import catalogue

    offered = {field.name for field in fields.attribute_fields()}
    for attribute in catalogue():
        if attribute.name in offered:
            continue
        assert fields.why_not_queryable(attribute.name), attribute.name
    assert all(field.operators for field in fields.attribute_fields())


def test_docs_hold_the_generated_tables() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "segments.md").read_text(encoding="utf-8")
    for table in (
        fields.markdown_operators(),
        fields.markdown_events(),
        fields.markdown_not_queryable(),
    ):
        for block in table.strip().split("\n\n"):
            assert block in text, "regenerate: python -m carebase.segments.fields"
    assert f"At most {MAX_DEPTH} levels" in text
    assert f"at most {MAX_LEAVES} conditions" in text
