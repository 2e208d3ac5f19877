"""Normalising links: email trimmed, lower-cased and checked; mobile to E.164; guards.

A link is (link_type, system_name, value). `system_name` is '' for links that
have none (email, mobile).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers

EMAIL = "email"
MOBILE = "mobile"
CUSTOMER_ID = "customer_id"
LINK_TYPES = (EMAIL, MOBILE, CUSTOMER_ID)

# The pattern Lexer's link schema gives for EmailLink.
_EMAIL_PATTERN = re.compile(r"^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$")
_MOBILE_PUNCTUATION = re.compile(r"[\s().\-/]")


@dataclass(frozen=True, slots=True, order=True)
class Link:
    """A normalised identifier."""

    link_type: str
    value: str
    system_name: str = ""

    def as_dict(self) -> dict[str, str]:
        """The link as the API shows it."""
        shown = {"type": self.link_type, "value": self.value}
        if self.system_name:
            shown["system_name"] = self.system_name
        return shown

    def suppression_hash(self) -> str:
        """The SHA-256 kept on the suppression list in place of the value."""
        material = f"{self.link_type}\x1f{self.system_name}\x1f{self.value}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class NormalisedLinks:
    """The usable links of one record, and what was wrong with the others."""

    links: list[Link] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)


def normalise_email(raw: str) -> str | None:
    """Trimmed and lower-cased, or None when it is not an email address."""
    value = raw.strip().lower()
    return value if _EMAIL_PATTERN.match(value) else None


@lru_cache(maxsize=50_000)
def normalise_mobile(raw: str, region: str | None) -> str | None:
    """E.164 (`+61404000000`), or None when phonenumbers cannot read it as a valid number.

    Digits without a `+` are tried in `region` first, then as an international
    number, which is how Lexer's schema writes mobiles (`61491570006`).
    """
    text = _MOBILE_PUNCTUATION.sub("", raw.strip())
    if not text:
        return None
    attempts: list[tuple[str, str | None]] = []
    if text.startswith("+"):
        attempts.append((text, None))
    elif text.startswith("00"):
        attempts.append(("+" + text[2:], None))
    else:
        if region:
            attempts.append((text, region))
        attempts.append(("+" + text, None))
    for candidate, candidate_region in attempts:
        try:
            number = phonenumbers.parse(candidate, candidate_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


class LinkNormaliser:
    """Turns a record's `link` object into normalised links, applying the blocked-value guard."""

    def __init__(self, *, blocked_values: tuple[str, ...], default_region: str | None) -> None:
        self.blocked = frozenset(value.strip().lower() for value in blocked_values)
        self.default_region = default_region
        # Customers write in again and again: normalise each distinct link object once.
        self._cached = lru_cache(maxsize=25_000)(self._normalise)

    def _is_blocked(self, raw: str) -> bool:
        text = raw.strip().lower()
        if text in self.blocked:
            return True
        digits = re.sub(r"\D", "", text)
        # "0000000000", "1111111111": placeholders, not phones.
        return len(text) > 0 and len(digits) == len(text.lstrip("+")) and len(set(digits)) == 1

    def normalise(self, link: dict[str, str | None]) -> NormalisedLinks:
        """Normalise the email, mobile and customer_id of one link object (do not mutate)."""
        return self._cached(
            link.get("email"), link.get("mobile"), link.get("customer_id"), link.get("system_name")
        )

    def _normalise(
        self, email: str | None, mobile: str | None, customer_id: str | None, system: str | None
    ) -> NormalisedLinks:
        result = NormalisedLinks()
        if email is not None:
            self._email(email, result)
        if mobile is not None:
            self._mobile(mobile, result)
        if customer_id is not None:
            if self._is_blocked(customer_id):
                result.warnings.append(_problem("link.customer_id", "blocked_value"))
            else:
                result.links.append(Link(CUSTOMER_ID, customer_id.strip(), (system or "").strip()))
        return result

    def _email(self, raw: str, result: NormalisedLinks) -> None:
        if self._is_blocked(raw):
            result.warnings.append(_problem("link.email", "blocked_value"))
            return
        value = normalise_email(raw)
        if value is None:
            result.errors.append(_problem("link.email", "not a valid email address"))
            return
        if value in self.blocked:
            result.warnings.append(_problem("link.email", "blocked_value"))
            return
        result.links.append(Link(EMAIL, value))

    def _mobile(self, raw: str, result: NormalisedLinks) -> None:
        if self._is_blocked(raw):
            result.warnings.append(_problem("link.mobile", "blocked_value"))
            return
        value = normalise_mobile(raw, self.default_region)
        if value is None:
            result.warnings.append(
                _problem("link.mobile", "not a valid phone number; kept as given, not normalised")
            )
            result.links.append(Link(MOBILE, raw.strip()))
            return
        result.links.append(Link(MOBILE, value))


def _problem(field_path: str, reason: str) -> dict[str, str]:
    return {"field": field_path, "reason": reason}
