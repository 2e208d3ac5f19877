"""Link normalisation and the blocked-value guard."""

from __future__ import annotations

import pytest

from carebase.identity.links import Link, LinkNormaliser, normalise_email, normalise_mobile

normaliser = LinkNormaliser(
    blocked_values=("", "null", "none", "test@test.com"), default_region=None
)


def test_email_is_trimmed_lowercased_and_checked() -> None:
    assert normalise_email("  Aaron@Gmail.COM ") == "aaron@gmail.com"
    assert normalise_email("aaron@") is None
    assert normalise_email("a b@c.com") is None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+61404000000", None, "+61404000000"),
        ("61491570006", None, "+61491570006"),  # Lexer's schema form: no '+'
        ("+61 404 000 000", None, "+61404000000"),
        ("0404 000 000", "AU", "+61404000000"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("0061404000000", None, "+61404000000"),
        ("0404 000 000", None, None),
        ("hello", "AU", None),
    ],
)
def test_mobile_to_e164(raw: str, region: str | None, expected: str | None) -> None:
    assert normalise_mobile(raw, region) == expected


def test_unparseable_mobile_is_kept_with_a_warning() -> None:
    result = normaliser.normalise({"mobile": "0404 000 000"})
    assert result.links == [Link("mobile", "0404 000 000")]
    assert result.warnings[0]["field"] == "link.mobile"
    assert result.errors == []


@pytest.mark.parametrize(
    "link",
    [{"email": "NULL"}, {"email": " test@test.com "}, {"mobile": "0000000000"}, {"email": ""}],
)
def test_blocked_values_link_nothing(link: dict[str, str]) -> None:
    result = normaliser.normalise(link)  # type: ignore[arg-type]
    assert result.links == []
    assert result.warnings[0]["reason"] == "blocked_value"


def test_customer_id_keeps_its_system() -> None:
    result = normaliser.normalise({"customer_id": " 42 ", "system_name": "shopify"})
    assert result.links == [Link("customer_id", "42", "shopify")]


def test_suppression_hash_depends_on_type_system_and_value() -> None:
    hashes = {
        Link("email", "a@b.co").suppression_hash(),
        Link("customer_id", "a@b.co").suppression_hash(),
        Link("customer_id", "a@b.co", "shopify").suppression_hash(),
    }
    assert len(hashes) == 3
