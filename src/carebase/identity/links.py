"""Normalising links: email trimmed, lower-cased and checked; mobile to E.164; guards.

A link is (link_type, system_name, value). `system_name` is '' for links that have none
(email, mobile, hashed emails). Every email also yields its SHA-256 and MD5 as *derived*
links, so a record that carries only a hashed email finds the profile that holds the plain
one, and the other way round.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.phonenumberutil import _extract_country_code

EMAIL = "email"
EMAIL_SHA256 = "email_sha256"
EMAIL_MD5 = "email_md5"
MOBILE = "mobile"
CUSTOMER_ID = "customer_id"
EXTERNAL_ID = "external_id"
LINK_TYPES = (EMAIL, EMAIL_SHA256, EMAIL_MD5, MOBILE, CUSTOMER_ID, EXTERNAL_ID)
# The stored columns' widths (models/identity.py): longer input is refused, not truncated.
MAX_SYSTEM_NAME = 100
MAX_VALUE = 512

# Link types whose values are scoped by a system_name.
SYSTEM_SCOPED = frozenset({CUSTOMER_ID, EXTERNAL_ID})
_HEX = {EMAIL_SHA256: re.compile(r"^[0-9a-f]{64}$"), EMAIL_MD5: re.compile(r"^[0-9a-f]{32}$")}

# The pattern Lexer's link schema gives for EmailLink.
_EMAIL_PATTERN = re.compile(r"^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$")
_MOBILE_PUNCTUATION = re.compile(r"[\s().\-/]")
_PLUS_DIGITS = re.compile(r"\+[1-9][0-9]{2,19}").fullmatch


class _LinkFields(NamedTuple):
    link_type: str
    value: str
    system_name: str = ""


class Link(_LinkFields):
    """A normalised identifier: (link_type, value, system_name), compared and hashed as that
    tuple (in C: ingestion looks links up, sorts and hashes them tens of thousands of times a
    batch). `derived` (a hash carebase computed from a plain email: it links, but is not
    shown) is the subclass's, so it takes no part in equality, as before."""

    __slots__ = ()
    derived: ClassVar[bool] = False

    def __new__(
        cls, link_type: str, value: str, system_name: str = "", derived: bool = False
    ) -> Link:
        """A link; `derived=True` gives the derived kind."""
        return tuple.__new__(_DerivedLink if derived else Link, (link_type, value, system_name))

    def __getnewargs__(self) -> tuple[str, str, str, bool]:
        """What copy and pickle rebuild it from, derived flag included."""
        return (self.link_type, self.value, self.system_name, self.derived)

    def __repr__(self) -> str:
        derived = ", derived=True" if self.derived else ""
        return f"Link({self.link_type!r}, {self.value!r}, {self.system_name!r}{derived})"

    def as_dict(self) -> dict[str, str]:
        """The link as the API shows it."""
        shown = {"type": self.link_type, "value": self.value}
        if self.system_name:
            shown["system_name"] = self.system_name
        return shown

    def as_record(self) -> dict[str, Any]:
        """The link as the merge ledger keeps it (derived hashes included, flagged)."""
        return {
            "type": self.link_type,
            "value": self.value,
            "system_name": self.system_name,
            "derived": self.derived,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Link:
        """The inverse of `as_record`."""
        return cls(
            record["type"], record["value"], record.get("system_name", ""), record["derived"]
        )

    def lock_key(self) -> str:
        """The advisory-lock key of this link: held by whoever resolves or creates it."""
        return f"link:{self.link_type}:{self.system_name}:{self.value}"

    def suppression_hash(self) -> str:
        """The SHA-256 kept on the suppression list in place of the value."""
        material = f"{self.link_type}\x1f{self.system_name}\x1f{self.value}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


class _DerivedLink(Link):
    __slots__ = ()
    derived: ClassVar[bool] = True


@dataclass(slots=True)
class NormalisedLinks:
    """The usable links of one record, and what was wrong with the others."""

    links: list[Link] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)


def derived_hashes(email: str) -> list[Link]:
    """The SHA-256 and MD5 links derived from a normalised email."""
    encoded = email.encode("utf-8")
    return [
        Link(EMAIL_SHA256, hashlib.sha256(encoded).hexdigest(), derived=True),
        Link(EMAIL_MD5, hashlib.md5(encoded, usedforsecurity=False).hexdigest(), derived=True),
    ]


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
        if candidate_region is None:
            fast = plus_digits_e164(candidate)
            if fast is not None:
                return fast
        try:
            number = phonenumbers.parse(candidate, candidate_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def plus_digits_e164(text: str) -> str | None:
    """`text` when it is `+` and digits that phonenumbers parses, unchanged, into a valid
    number; None when that is not certain (the caller then asks phonenumbers itself).

    Half the cost of phonenumbers is `parse`; for this form it is taken here in parse's own
    steps (its country code extraction and metadata), and the rest is provably the identity:
    no phone-context, extension or second number can be written with digits alone, and the
    national number is kept as it is unless the region's national prefix matches its start
    (then: unsure) or it starts with 0 (Italian leading zeros: unsure). Validity is still
    phonenumbers' `is_valid_number`. `tests/identity/test_mobile_fast_path.py` compares.
    """
    if _PLUS_DIGITS(text) is None:
        return None
    country_code, national = _extract_country_code(text[1:])
    if country_code == 0 or not 2 <= len(national) <= 17 or national[0] == "0":
        return None
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and re.match(prefix, national):
        return None  # parse may strip it as a national prefix
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    return text if phonenumbers.is_valid_number(number) else None


class LinkNormaliser:
    """Turns a record's `link` object into normalised links, applying the blocked-value guard."""

    def __init__(self, *, blocked_values: tuple[str, ...], default_region: str | None) -> None:
        self.blocked = frozenset(value.strip().lower() for value in blocked_values)
        self.default_region = default_region
        # Customers write in again and again: normalise each distinct link object once.
        self._cached = lru_cache(maxsize=25_000)(self._normalise)

    def _is_blocked(self, raw: str, link_type: str) -> bool:
        text = raw.strip().lower()
        if text in self.blocked:
            return True
        if link_type != MOBILE:
            return False
        # "0000000000", "+1111111111": placeholders, not phones.
        digits = text.lstrip("+")
        return len(digits) >= 6 and digits.isdigit() and len(set(digits)) == 1

    def normalise(self, link: dict[str, str | None]) -> NormalisedLinks:
        """Normalise every identifier of one link object (the result is shared: do not mutate).

        Accepts the specific forms (`email`, `email_sha256`, `email_md5`, `mobile`,
        `customer_id` with an optional `system_name`, `external_id` with a required
        `system_name`) and the generic one (`link_type`, `link_value`, `id_type`).
        """
        key = tuple(sorted((k, v) for k, v in link.items() if isinstance(v, str)))
        return self._cached(key)

    def _normalise(self, items: tuple[tuple[str, str], ...]) -> NormalisedLinks:
        link = dict(items)
        result = NormalisedLinks()
        if "link_type" in link or "link_value" in link:
            link = self._from_generic(link, result)
        system = link.get("system_name", "").strip()
        if len(system) > MAX_SYSTEM_NAME:
            reason = f"must be at most {MAX_SYSTEM_NAME} characters"
            result.errors.append(_problem("link.system_name", reason))
            return result
        for link_type in LINK_TYPES:
            raw = link.get(link_type)
            if raw is None:
                continue
            if self._is_blocked(raw, link_type):
                result.warnings.append(_problem(f"link.{link_type}", "blocked_value"))
            elif link_type == EMAIL:
                self._email(raw, result)
            elif link_type == MOBILE:
                self._mobile(raw, result)
            elif link_type in _HEX:
                self._hashed(link_type, raw, result)
            elif link_type == EXTERNAL_ID and not system:
                problem = _problem("link.system_name", "external_id needs a system_name")
                result.errors.append(problem)
            elif len(raw.strip()) > MAX_VALUE:
                reason = f"must be at most {MAX_VALUE} characters"
                result.errors.append(_problem(f"link.{link_type}", reason))
            else:
                result.links.append(Link(link_type, raw.strip(), system))
        return result

    @staticmethod
    def _from_generic(link: dict[str, str], result: NormalisedLinks) -> dict[str, str]:
        link_type, value = link.get("link_type", ""), link.get("link_value", "")
        if link_type not in LINK_TYPES:
            known = ", ".join(LINK_TYPES)
            result.errors.append(_problem("link.link_type", f"must be one of {known}"))
            return {}
        if not value:
            result.errors.append(_problem("link.link_value", "must not be empty"))
            return {}
        specific = {link_type: value}
        id_type = link.get("id_type", "default")
        if link_type in SYSTEM_SCOPED and id_type != "default":
            # The legacy form names the source system in id_type.
            specific["system_name"] = id_type
        return specific

    def _hashed(self, link_type: str, raw: str, result: NormalisedLinks) -> None:
        value = raw.strip().lower()
        if not _HEX[link_type].match(value):
            length = 64 if link_type == EMAIL_SHA256 else 32
            reason = f"must be {length} hex characters (hash of the trimmed, lower-cased email)"
            result.errors.append(_problem(f"link.{link_type}", reason))
            return
        result.links.append(Link(link_type, value))

    def _email(self, raw: str, result: NormalisedLinks) -> None:
        value = normalise_email(raw)
        if value is None:
            result.errors.append(_problem("link.email", "not a valid email address"))
            return
        if value in self.blocked:
            result.warnings.append(_problem("link.email", "blocked_value"))
            return
        result.links.append(Link(EMAIL, value))
        result.links.extend(derived_hashes(value))

    def _mobile(self, raw: str, result: NormalisedLinks) -> None:
        value = normalise_mobile(raw, self.default_region)
        if value is None and len(raw.strip()) > MAX_VALUE:
            result.errors.append(_problem("link.mobile", f"must be at most {MAX_VALUE} characters"))
            return
        if value is None:
            result.warnings.append(
                _problem("link.mobile", "not a valid phone number; kept as given, not normalised")
            )
            result.links.append(Link(MOBILE, raw.strip()))
            return
        result.links.append(Link(MOBILE, value))


def _problem(field_path: str, reason: str) -> dict[str, str]:
    return {"field": field_path, "reason": reason}
