"""Each rule a Zendesk record is checked by before it is sent (the pure core, no server)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from carebase.activation.channel import RecordInvalid, SyncMode
from carebase.activation.zendesk import ZendeskConfig
from carebase.activation.zendesk_fields import UserField, prepare_user

FIELDS = {
    "city": UserField("city", "text"),
    "tier": UserField("tier", "dropdown", options=frozenset({"gold", "silver"})),
    "topics": UserField("topics", "multiselect", options=frozenset({"billing", "returns"})),
    "visits": UserField("visits", "integer"),
    "spend": UserField("spend", "decimal"),
    "vip": UserField("vip", "checkbox"),
    "joined": UserField("joined", "date"),
    "postcode": UserField("postcode", "regexp", regexp=r"\d{4}"),
    "legacy": UserField("legacy", "text", active=False),
}


def prepare(
    fields: dict[str, Any], *, mode: SyncMode = "upsert", region: str | None = None
) -> dict[str, Any]:
    return prepare_user(fields, mode=mode, default_region=region, user_fields=lambda: FIELDS)


def invalid(fields: dict[str, Any], **options: Any) -> RecordInvalid:
    with pytest.raises(RecordInvalid) as caught:
        prepare(fields, **options)
    return caught.value


def test_a_complete_record_becomes_the_zendesk_user_with_custom_fields_gathered() -> None:
    user = prepare(
        {
            "external_id": "p-1",
            "name": "  Ada Lovelace ",
            "email": "Ada@Example.COM",
            "phone": "+61 404 000 000",
            "user_fields.city": "Sydney",
            "user_fields.tier": "gold",
            "user_fields.visits": "12",
            "user_fields.spend": Decimal("120.50"),
            "user_fields.vip": "true",
            "user_fields.joined": date(2024, 3, 1),
            "user_fields.topics": "billing returns",
            "tags": "vip, churn-risk",
            "verified": 1,
            "organization_id": "42",
        }
    )
    assert user == {
        "external_id": "p-1",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+61404000000",
        "tags": ["vip", "churn-risk"],
        "verified": True,
        "organization_id": 42,
        "user_fields": {
            "city": "Sydney",
            "tier": "gold",
            "visits": 12,
            "spend": 120.5,
            "vip": True,
            "joined": "2024-03-01",
            "topics": ["billing", "returns"],
        },
    }


def test_preparing_a_prepared_user_again_gives_the_same_user() -> None:
    user = prepare({"email": "a@b.test", "name": "A", "user_fields.tier": "silver"})
    assert prepare(user) == user


def test_nulls_are_left_out_never_sent_to_clear_zendesk() -> None:
    assert prepare({"email": "a@b.test", "name": "A", "phone": None, "user_fields.city": None}) == {
        "email": "a@b.test",
        "name": "A",
    }


@pytest.mark.parametrize("name", [None, "", "   "])
def test_a_name_is_required(name: Any) -> None:
    error = invalid({"email": "a@b.test", "name": name})
    assert (error.code, error.field) == ("missing_name", "name")


def test_an_email_or_an_external_id_is_required() -> None:
    error = invalid({"name": "A", "phone": "+61404000000"})
    assert error.code == "missing_identifier"
    assert prepare({"name": "A", "external_id": 7}) == {"name": "A", "external_id": "7"}


def test_update_only_needs_the_external_id_update_many_finds_users_by() -> None:
    error = invalid({"name": "A", "email": "a@b.test"}, mode="update_only")
    assert (error.code, error.field) == ("missing_external_id", "external_id")
    assert prepare({"name": "A", "external_id": "x"}, mode="update_only")["external_id"] == "x"


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.test", "a b@c.test"])
def test_email_syntax_is_checked(email: str) -> None:
    error = invalid({"name": "A", "email": email})
    assert (error.code, error.field) == ("invalid_email", "email")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("+61404000000", None, "+61404000000"),
        ("0404 000 000", "AU", "+61404000000"),
        ("(415) 555-2671", "US", "+14155552671"),
    ],
)
def test_phones_are_normalised_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert (
        prepare({"name": "A", "external_id": "1", "phone": raw}, region=region)["phone"] == expected
    )


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("0404 000 000", None),  # national, and no region to read it in
        ("+61 12", None),
        ("not a phone", "AU"),
        ("+999 1234 5678", None),
    ],
)
def test_a_phone_that_is_not_a_valid_number_is_invalid(raw: str, region: str | None) -> None:
    error = invalid({"name": "A", "external_id": "1", "phone": raw}, region=region)
    assert (error.code, error.field) == ("invalid_phone", "phone")


def test_unknown_and_inactive_user_fields_are_reported_never_dropped() -> None:
    error = invalid({"name": "A", "external_id": "1", "user_fields.citty": "Sydney"})
    assert (error.code, error.field) == ("unknown_user_field", "user_fields.citty")
    error = invalid({"name": "A", "external_id": "1", "user_fields.legacy": "x"})
    assert (error.code, error.field) == ("unknown_user_field", "user_fields.legacy")
    assert "inactive" in error.message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("tier", "Gold"),  # the option's name, not its tag
        ("tier", "platinum"),
        ("topics", "billing refunds"),
        ("visits", "12.5"),
        ("visits", True),
        ("spend", "lots"),
        ("vip", "maybe"),
        ("joined", "1 March 2024"),
        ("joined", "2024-02-30"),
        ("postcode", "20000"),
        ("city", {"nested": 1}),
    ],
)
def test_user_field_values_must_suit_the_fields_type(key: str, value: Any) -> None:
    error = invalid({"name": "A", "external_id": "1", f"user_fields.{key}": value})
    assert (error.code, error.field) == ("invalid_user_field", f"user_fields.{key}")


def test_the_accounts_fields_are_asked_for_only_when_a_record_has_one() -> None:
    asked: list[int] = []

    def user_fields() -> dict[str, UserField]:
        asked.append(1)
        return FIELDS

    prepare_user(
        {"name": "A", "email": "a@b.test"},
        mode="upsert",
        default_region=None,
        user_fields=user_fields,
    )
    assert asked == []


@pytest.mark.parametrize("field", ["first_name", "amperity_id", "user_fields"])
def test_anything_else_is_an_unknown_field(field: str) -> None:
    error = invalid({"name": "A", "external_id": "1", field: "x"})
    assert (error.code, error.field) == ("unknown_field", field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role", "owner"),
        ("verified", "perhaps"),
        ("organization_id", "acme"),
        ("tags", [1.5, "a b"]),
    ],
)
def test_built_in_properties_are_type_checked(field: str, value: Any) -> None:
    error = invalid({"name": "A", "external_id": "1", field: value})
    assert (error.code, error.field) == ("invalid_field", field)


def test_the_config_reads_a_subdomain_and_checks_the_region() -> None:
    config = ZendeskConfig(base_url="acme", email="agent@acme.test", default_region="au")
    assert (config.base_url, config.default_region) == ("https://acme.zendesk.com", "AU")
    assert ZendeskConfig(base_url="https://acme.zendesk.com/", email="a@b.c").base_url == (
        "https://acme.zendesk.com"
    )
    with pytest.raises(ValidationError, match="default_region"):
        ZendeskConfig(base_url="acme", email="a@b.c", default_region="XX")
