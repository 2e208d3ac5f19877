"""A run keeps no copy of a record's fields, not even quoted in a destination's reason."""

from __future__ import annotations

from carebase.activation.privacy import without_values


def test_quoted_values_become_their_field_names() -> None:
    fields = {
        "email": "ana@example.com",
        "name": "Ana",
        "user_fields": {"city": "Sydney", "vip": True},
        "tags": ["gold", "ok"],
    }
    message = "Email: ana@example.com is already being used (Ana, Sydney, gold, ok)"
    assert without_values(message, fields) == (
        "Email: [email] is already being used ([name], [user_fields], [tags], ok)"
    )


def test_longer_values_go_first_and_nothing_else_changes() -> None:
    fields = {"email": "ana@example.com", "domain": "example.com"}
    assert without_values("ana@example.com taken", fields) == "[email] taken"
    assert without_values("no values here", fields) == "no values here"
    assert without_values("", fields) == ""
    assert without_values("x", None) == "x"
