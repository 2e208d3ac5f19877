"""The builder's form ⇄ definition mapping (`carebase.web.segment_form`), directly: posted
rows become a definition `parse_definition` accepts, its problems come back beside the row
and input they name, and a saved definition opens as rows again — or, when it does not fit
Must / Should / Not, in the JSON editor."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carebase.errors import ValidationFailed
from carebase.segments.definition import definition_json, parse_definition
from carebase.web import segment_form as sf
from carebase.web import segment_load as sl
from tests.segments.test_definition import ISSUE_EXAMPLE

UTC = ZoneInfo("UTC")
SYDNEY = ZoneInfo("Australia/Sydney")


def _pairs(**rows: dict[str, Any]) -> list[tuple[str, str]]:
    """Form pairs for rows given as key → {input: value, where: {sub: {...}}}."""
    pairs: list[tuple[str, str]] = [("name", "VIPs")]
    for key, inputs in rows.items():
        pairs.append(("row", key))
        for name, value in inputs.items():
            if name == "where":
                for sub, fields in value.items():
                    pairs.append((f"{key}.where", sub))
                    pairs.extend((f"{key}.{sub}.{n}", v) for n, v in fields.items())
            else:
                pairs.append((f"{key}.{name}", value))
    return pairs


def _parse(definition: dict[str, Any]) -> dict[str, Any]:
    return definition_json(parse_definition(definition, window_limit_days=120))


def test_rows_of_three_groups_make_a_definition_parse_definition_accepts() -> None:
    form = sf.read_form(
        [
            *_pairs(
                a1={
                    "group": "must",
                    "kind": "attribute",
                    "field": "ticket_count",
                    "op": "gte",
                    "value": "3",
                },
                e1={
                    "group": "must",
                    "kind": "event",
                    "event": "customer_support_ticket",
                    "window_days": "120",
                    "count_op": "gte",
                    "count_value": "2",
                    "where": {
                        "w1": {"field": "satisfaction_score", "op": "eq", "value": "bad"},
                        "w2": {"field": "tags", "op": "in", "value": "refund, late"},
                    },
                },
                s1={
                    "group": "should",
                    "kind": "attribute",
                    "field": "total_spend",
                    "op": "gte",
                    "value": "500 aud",
                },
                s2={
                    "group": "should",
                    "kind": "attribute",
                    "field": "order_count",
                    "op": "between",
                    "value": "2, 10",
                },
                n1={
                    "group": "not",
                    "kind": "attribute",
                    "field": "open_ticket_count",
                    "op": "is_set",
                },
            ),
            ("should_min", "1"),
        ]
    )
    built = sf.to_definition(form, UTC)
    assert built.errors == {}
    assert built.definition is not None
    canonical = _parse(built.definition)
    must_attribute, must_event, should, not_ = canonical["children"]
    assert must_attribute == {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 3}
    assert must_event["where"]["children"][1]["value"] == ["refund", "late"]
    assert should["op"] == "at_least"
    assert should["min"] == 1
    assert should["children"][0]["value"] == {"currency": "AUD", "amount": 500}
    assert should["children"][1]["value"] == [2, 10]
    assert not_ == {
        "type": "not",
        "child": {"type": "attribute", "field": "open_ticket_count", "op": "is_set"},
    }


def test_several_not_rows_are_none_of_them() -> None:
    form = sf.read_form(
        _pairs(
            n1={"group": "not", "field": "ticket_count", "op": "gte", "value": "5"},
            n2={"group": "not", "field": "order_count", "op": "eq", "value": "0"},
        )
    )
    built = sf.to_definition(form, UTC)
    assert built.definition is not None
    (not_,) = _parse(built.definition)["children"]
    assert not_["child"]["op"] == "or"
    assert len(not_["child"]["children"]) == 2


def test_a_day_is_its_start_in_the_viewers_zone() -> None:
    form = sf.read_form(
        _pairs(a1={"field": "last_ticket_date", "op": "gte", "value": "2026-03-01"})
    )
    built = sf.to_definition(form, SYDNEY)
    assert built.definition is not None
    (condition,) = _parse(built.definition)["children"]
    assert condition["value"] == "2026-02-28T13:00:00Z"


def test_what_the_form_cannot_read_is_a_message_beside_its_input() -> None:
    form = sf.read_form(
        [
            *_pairs(
                a1={"field": "ticket_count", "op": "gte", "value": "three"},
                a2={"field": "", "op": "eq"},
                e1={"kind": "event", "event": "customer_support_ticket", "count_value": "x"},
                s1={"group": "should", "field": "order_count", "op": "eq", "value": "1"},
            ),
            ("should_min", "one"),
        ]
    )
    built = sf.to_definition(form, UTC)
    assert built.definition is None
    assert built.errors == {
        "a1.value": "Enter a whole number.",
        "a2.field": "Choose an attribute, or remove this condition.",
        "e1.count_value": "Enter a whole number.",
        "should_min": "Enter a whole number.",
    }


def test_no_rows_is_a_message_for_the_form() -> None:
    built = sf.to_definition(sf.read_form([("name", "x")]), UTC)
    assert built.errors == {sf.FORM_LEVEL: "Add at least one condition."}


def test_parse_definitions_problems_land_beside_the_row_input_they_name() -> None:
    form = sf.read_form(
        [
            *_pairs(
                a1={"field": "ticket_count", "op": "contains", "value": "3"},
                e1={
                    "kind": "event",
                    "event": "customer_support_ticket",
                    "window_days": "400",
                    "where": {"w1": {"field": "status", "op": "gt", "value": "open"}},
                },
                s1={"group": "should", "field": "order_count", "op": "eq", "value": "1"},
            ),
            ("should_min", "3"),
        ]
    )
    built = sf.to_definition(form, UTC)
    assert built.definition is not None
    with pytest.raises(ValidationFailed) as refused:
        parse_definition(built.definition, window_limit_days=120)
    messages = sf.problem_messages(refused.value.details, built.paths)
    assert set(messages) == {"a1.op", "e1.window_days", "e1.w1.op", "should_min"}
    assert messages["e1.window_days"].startswith("Must be between 1 and 120")


def test_json_mode_problems_are_listed_beside_the_editor_with_their_paths() -> None:
    messages = sf.problem_messages(
        [{"field": "definition.children[0].op", "reason": "is wrong"}], {}, json_mode=True
    )
    assert messages == {"definition_json": "definition.children[0].op: Is wrong."}
    assert (
        sf.json_definition(sf.BuilderForm(json_text="{nope"))
        .errors["definition_json"]
        .startswith("This is not JSON")
    )
    assert sf.json_definition(sf.BuilderForm(json_text="[1]")).errors == {
        "definition_json": "The definition must be a JSON object."
    }


def test_a_saved_definition_opens_as_rows_and_saves_back_the_same() -> None:
    canonical = _parse(ISSUE_EXAMPLE)
    form = sl.from_definition(canonical)
    assert form is not None
    assert [(row.group, row.kind) for row in form.rows] == [
        ("must", "attribute"),
        ("must", "event"),
    ]
    assert form.rows[1].where[0].value == "bad"
    built = sf.to_definition(form, UTC)
    assert built.definition is not None
    assert _parse(built.definition) == canonical


def test_should_and_not_round_trip() -> None:
    definition = {
        "type": "group",
        "op": "and",
        "children": [
            {"type": "attribute", "field": "employee_flag", "op": "eq", "value": False},
            {
                "type": "group",
                "op": "at_least",
                "min": 2,
                "children": [
                    {"type": "attribute", "field": "order_count", "op": "gte", "value": 2},
                    {
                        "type": "attribute",
                        "field": "total_spend",
                        "op": "gt",
                        "value": {"currency": "AUD", "amount": 99.5},
                    },
                    {
                        "type": "attribute",
                        "field": "email",
                        "op": "in",
                        "value": ["a@b.io", "c@d.io"],
                    },
                ],
            },
            {"type": "not", "child": {"type": "event", "event": "email_bounce", "window_days": 30}},
        ],
    }
    canonical = _parse(definition)
    form = sl.from_definition(canonical)
    assert form is not None
    assert form.should_min == "2"
    assert [row.group for row in form.rows] == ["must", "should", "should", "should", "not"]
    built = sf.to_definition(form, UTC)
    assert built.definition is not None
    assert _parse(built.definition) == canonical


@pytest.mark.parametrize(
    "definition",
    [
        # `or` inside Must, a deeper group, a segment reference, `not` of an `and`.
        {
            "type": "group",
            "op": "and",
            "children": [
                {
                    "type": "group",
                    "op": "and",
                    "children": [
                        {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 1}
                    ],
                }
            ],
        },
        {"type": "segment", "segment_id": "seg_1"},
        {
            "type": "not",
            "child": {
                "type": "group",
                "op": "and",
                "children": [
                    {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 1}
                ],
            },
        },
        {
            "type": "event",
            "event": "customer_support_ticket",
            "where": {
                "type": "group",
                "op": "or",
                "children": [
                    {"type": "event_field", "field": "status", "op": "eq", "value": "open"}
                ],
            },
        },
        {"type": "attribute", "field": "custom_fields.tier", "op": "eq", "value": "gold"},
    ],
)
def test_a_definition_that_does_not_fit_the_rows_opens_in_the_json_editor(
    definition: dict[str, Any],
) -> None:
    assert sl.from_definition(definition) is None
    editor = sl.json_form(definition, name="Deep")
    assert editor.mode == "json"
    assert sf.json_definition(editor).definition == definition


def test_unknown_row_keys_and_values_are_ignored() -> None:
    form = sf.read_form(
        [("row", "BAD KEY"), ("row", "ok1"), ("ok1.group", "sideways"), ("ok1.kind", "x")]
    )
    assert [(row.key, row.group, row.kind) for row in form.rows] == [("ok1", "must", "attribute")]
