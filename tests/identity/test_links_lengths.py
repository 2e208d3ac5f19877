"""Identifiers longer than their stored columns are refused by name, never truncated."""

from __future__ import annotations

from carebase.identity.links import MAX_SYSTEM_NAME, MAX_VALUE, LinkNormaliser


def normaliser() -> LinkNormaliser:
    return LinkNormaliser(blocked_values=(), default_region=None)


def test_a_system_name_longer_than_its_column_is_refused() -> None:
    result = normaliser().normalise(
        {"customer_id": "c1", "system_name": "s" * (MAX_SYSTEM_NAME + 1)}
    )
    assert result.links == []
    assert result.errors == [
        {"field": "link.system_name", "reason": f"must be at most {MAX_SYSTEM_NAME} characters"}
    ]
    ok = normaliser().normalise({"customer_id": "c1", "system_name": "s" * MAX_SYSTEM_NAME})
    assert [link.system_name for link in ok.links] == ["s" * MAX_SYSTEM_NAME]


def test_a_value_longer_than_its_column_is_refused() -> None:
    result = normaliser().normalise({"customer_id": "c" * (MAX_VALUE + 1)})
    assert result.links == []
    assert result.errors[0]["field"] == "link.customer_id"
    assert normaliser().normalise({"customer_id": "c" * MAX_VALUE}).errors == []
