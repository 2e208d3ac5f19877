"""The pure rule matcher and redaction."""

from __future__ import annotations

import pytest

from carebase.inbox.rules import (
    Message,
    RuleView,
    check_actions,
    check_conditions,
    luhn,
    match,
    plan,
    redact,
)


def _message(body: str = "I want a Refund now!", **fields: str | None) -> Message:
    values: dict[str, str | None] = {
        "source_type": "twitter",
        "author_key": "twitter_219",
        "author_username": "@kim",
        "author_fullname": "Kim Lee",
    }
    values.update(fields)
    return Message(body=body, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("conditions", "matched"),
    [
        ({"terms": ["refund"]}, True),  # case-insensitive
        ({"terms": ["fund"]}, False),  # whole words only
        ({"terms": ["refund   NOW"]}, True),  # a phrase; any whitespace between its words
        ({"terms": ["now refund"]}, False),
        ({"terms": ["nope", "refund"]}, True),  # any of the terms
        ({"source_types": ["Twitter", "facebook"]}, True),
        ({"source_types": ["email"]}, False),
        ({"authors": ["kim"]}, True),  # handle without @
        ({"authors": ["@KIM"]}, True),
        ({"authors": ["twitter_219"]}, True),
        ({"authors": ["kim lee"]}, True),
        ({"authors": ["sam"]}, False),
        ({"terms": ["refund"], "source_types": ["twitter"], "authors": ["kim"]}, True),
        ({"terms": ["refund"], "source_types": ["email"]}, False),  # all must match
        ({}, False),  # nothing to look for: never matches
        ({"terms": ["  "]}, False),
    ],
)
def test_match(conditions: dict[str, list[str]], matched: bool) -> None:
    assert match(conditions, _message()) is matched


def test_a_term_with_regex_characters_is_literal() -> None:
    assert match({"terms": ["c++"]}, _message("I love c++ a lot"))
    assert not match({"terms": ["a.c"]}, _message("abc"))


def test_plan_keeps_order_and_stops() -> None:
    rules = [
        RuleView("r1", {"terms": ["refund"]}, {}),
        RuleView("r2", {"terms": ["nothing"]}, {}),
        RuleView("r3", {"source_types": ["twitter"]}, {}, stop=True),
        RuleView("r4", {"authors": ["kim"]}, {}),
    ]
    assert [r.id for r in plan(rules, _message())] == ["r1", "r3"]


def test_luhn() -> None:
    assert luhn("4111111111111111")
    assert not luhn("4111111111111112")


def test_redact_cards_only_when_they_pass_luhn() -> None:
    text = "card 4111 1111 1111 1111, order 4111111111111112, visa 4012-8888-8888-1881"
    assert redact(text, ["cards"]) == (
        "card [CREDIT CARD REMOVED], order 4111111111111112, visa [CREDIT CARD REMOVED]"
    )


def test_redact_emails_and_phones() -> None:
    text = "Mail kim.lee+x@example.co.uk or call +61 404 000 000 / (02) 9999-0000 at 10:30"
    assert redact(text, ["emails"]) == (
        "Mail [EMAIL REMOVED] or call +61 404 000 000 / (02) 9999-0000 at 10:30"
    )
    assert redact(text, ["emails", "phones"]) == (
        "Mail [EMAIL REMOVED] or call [PHONE REMOVED] / [PHONE REMOVED] at 10:30"
    )


def test_a_card_is_not_taken_for_a_phone() -> None:
    assert redact("4111111111111111", ["cards", "phones"]) == "[CREDIT CARD REMOVED]"


def test_nothing_asked_nothing_removed() -> None:
    assert redact("kim@example.org 4111111111111111", []) == "kim@example.org 4111111111111111"


def test_conditions_are_checked_naming_the_field() -> None:
    assert check_conditions({"terms": ["a"], "colour": ["x"]})[1] == [
        {"field": "conditions.colour", "reason": "is not a condition: terms, source_types, authors"}
    ]
    assert check_conditions({"terms": "refund"})[1][0]["field"] == "conditions.terms"
    assert check_conditions({})[1][0]["field"] == "conditions"
    cleaned, problems = check_conditions({"terms": [" refund ", ""], "authors": ["kim"]})
    assert problems == []
    assert cleaned == {"terms": ["refund"], "source_types": [], "authors": ["kim"]}


def test_actions_are_checked_naming_the_field() -> None:
    def fields(actions: object) -> list[str]:
        return [p["field"] for p in check_actions(actions)[1]]

    assert fields({"state": "assigned"}) == ["actions.state"]
    assert fields({"state": "closed_thread"}) == ["actions.state"]
    assert fields({"assign": {"user_id": 1, "group_id": 2}}) == ["actions.assign"]
    assert fields({"classify": ["x"]}) == ["actions.classify"]
    assert fields({"redact": ["cards", "names"]}) == ["actions.redact"]
    assert fields({"state": "closed", "assign": {"user_id": 1}}) == ["actions.state"]
    assert fields({}) == ["actions"]
    cleaned, problems = check_actions({"redact": ["phones", "cards"], "classify": [3, 3]})
    assert problems == []
    assert cleaned == {
        "classify": [3],
        "state": None,
        "assign": None,
        "redact": ["cards", "phones"],
    }
