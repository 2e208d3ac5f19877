"""What a Zendesk user record may carry, and how each field is checked before it is sent.

Zendesk's Users API is permissive: an unknown attribute or `user_fields` key is ignored with
a 200 (helpdesk-apis.md §1.5), so a misspelt column would silently never arrive. Every field
is therefore checked here, against the built-in user properties below and the account's own
user fields (`GET /api/v2/user_fields`), and a record that fails is reported, never sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from carebase.activation.channel import RecordInvalid, SyncMode
from carebase.identity.links import normalise_email, plus_digits_e164

USER_FIELDS = "user_fields"
ROLES = ("end-user", "agent", "admin")

# The built-in user properties a record may set, by the kind of value each takes
# (developer.zendesk.com Users: JSON format). Read-only ones (id, created_at, photo…) and
# agent-only ones are left out on purpose.
TEXT_FIELDS = {
    "name": "the user's full name (required)",
    "email": "the primary email; identifies the user (writable on create only; on update "
    "Zendesk adds it as a secondary email)",
    "external_id": "your id for the user (e.g. the profile id); identifies the user, "
    "case-insensitively, before email",
    "phone": "the primary phone, sent as E.164 (+61404000000)",
    "alias": "an alias shown to end users instead of the name",
    "details": "details about the user, e.g. an address",
    "notes": "notes about the user",
    "time_zone": "the user's time zone (Zendesk's name, e.g. Sydney)",
    "locale": "the user's locale (e.g. en-US)",
}
INTEGER_FIELDS = {
    "organization_id": "the id of the user's default organization",
    "locale_id": "the user's language id",
}
BOOLEAN_FIELDS = {
    "verified": "whether the primary email is verified",
    "shared_phone_number": "whether the phone is shared (then not used as an identity)",
    "skip_verify_email": "create the user without sending a verification email",
    "suspended": "whether the user is suspended",
}
OTHER_FIELDS = {
    "role": "end-user, agent or admin (agents and admins take seats: map with care)",
    "tags": "the user's tags (a list, or words separated by spaces or commas); replaces "
    "the tags Zendesk has",
    "user_fields.<key>": "a custom user field, by its key; it must exist in the account and "
    "the value must suit its type (a dropdown takes one of its options' tags)",
}
FIELDS: tuple[tuple[str, str], ...] = tuple(
    {**TEXT_FIELDS, **INTEGER_FIELDS, **BOOLEAN_FIELDS, **OTHER_FIELDS}.items()
)
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_TAG_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True, slots=True)
class UserField:
    """One of the account's custom user fields: its key, type, whether it is active, and
    for dropdown and multiselect fields the options' values (tags)."""

    key: str
    type: str
    active: bool = True
    options: frozenset[str] = frozenset()
    regexp: str | None = None

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> UserField:
        """A user field as `GET /api/v2/user_fields` lists it."""
        options = body.get("custom_field_options") or []
        return cls(
            key=str(body.get("key")),
            type=str(body.get("type") or "text"),
            active=bool(body.get("active", True)),
            options=frozenset(str(o.get("value")) for o in options if isinstance(o, dict)),
            regexp=body.get("regexp_for_validation") or None,
        )


def prepare_user(
    fields: Mapping[str, Any],
    *,
    mode: SyncMode,
    default_region: str | None,
    user_fields: Callable[[], Mapping[str, UserField]],
) -> dict[str, Any]:
    """The Zendesk user object for one record's mapped fields (`user_fields.<key>` gathered
    into `user_fields`), or RecordInvalid naming the field at fault. `user_fields` is asked
    for the account's fields only when the record has one. A None value is left out: a run
    never clears what Zendesk holds."""
    user: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name == USER_FIELDS and isinstance(value, Mapping):
            # Already gathered (a record prepared before): check each key again.
            custom.update({str(k): v for k, v in value.items() if v is not None})
        elif name.startswith(USER_FIELDS + "."):
            custom[name[len(USER_FIELDS) + 1 :]] = value
        else:
            user[name] = _builtin(name, value, default_region)
    if not user.get("name"):
        raise RecordInvalid("missing_name", "Zendesk needs the user's name", field="name")
    if mode == "update_only" and "external_id" not in user:
        raise RecordInvalid(
            "missing_external_id",
            "an update-only send finds users by external_id (Zendesk's update_many cannot "
            "look users up by email)",
            field="external_id",
        )
    if "email" not in user and "external_id" not in user:
        raise RecordInvalid(
            "missing_identifier",
            "Zendesk needs an email or an external_id to find or create the user",
            field="external_id",
        )
    if custom:
        known = user_fields()
        user[USER_FIELDS] = {key: _custom(key, value, known) for key, value in custom.items()}
    return user


def _builtin(name: str, value: Any, default_region: str | None) -> Any:
    if name in TEXT_FIELDS:
        text = _text(name, value)
        if name == "email":
            email = normalise_email(text)
            if email is None:
                raise RecordInvalid("invalid_email", "not an email address", field=name)
            return email
        if name == "phone":
            return _phone(text, default_region)
        return text
    if name in INTEGER_FIELDS:
        return _integer(name, value, "invalid_field")
    if name in BOOLEAN_FIELDS:
        return _boolean(name, value, "invalid_field")
    if name == "role":
        role = _text(name, value).lower()
        if role not in ROLES:
            raise RecordInvalid(
                "invalid_field", f"role must be one of {', '.join(ROLES)}", field=name
            )
        return role
    if name == "tags":
        return _tags(value)
    raise RecordInvalid(
        "unknown_field",
        f"{name!r} is not a Zendesk user property; custom fields are named user_fields.<key>",
        field=name,
    )


def _text(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise RecordInvalid("invalid_field", "must be text", field=name)
    text = str(value).strip()
    if not text:
        code = "missing_name" if name == "name" else "invalid_field"
        raise RecordInvalid(code, "must not be blank", field=name)
    return text


def _phone(text: str, default_region: str | None) -> str:
    """E.164, as Zendesk asks; a number without + only with the destination's region."""
    compact = re.sub(r"[\s().\-]", "", text)
    fast = plus_digits_e164(compact) if compact.startswith("+") else None
    if fast is not None:
        return fast
    if not compact.startswith("+") and default_region is None:
        raise RecordInvalid(
            "invalid_phone",
            "not in international form (+ and the country code); set the destination's "
            "default_region to read national numbers",
            field="phone",
        )
    try:
        number = phonenumbers.parse(text, None if compact.startswith("+") else default_region)
    except phonenumbers.NumberParseException as error:
        raise RecordInvalid(
            "invalid_phone", f"not a phone number ({error})", field="phone"
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise RecordInvalid("invalid_phone", "not a valid phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _integer(name: str, value: Any, code: str) -> int:
    if isinstance(value, bool):
        raise RecordInvalid(code, "must be a whole number", field=name)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if isinstance(value, float | Decimal) and float(value).is_integer():
        return int(value)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise RecordInvalid(code, "must be a whole number", field=name)


def _boolean(name: str, value: Any, code: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordInvalid(code, "must be true or false", field=name)


def _tags(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else _TAG_SPLIT.split(str(value))
    tags = [str(item).strip() for item in items if str(item).strip()]
    for tag in tags:
        if _TAG_SPLIT.search(tag):
            raise RecordInvalid("invalid_field", f"tag {tag!r} has a space or comma", field="tags")
    return tags


def _custom(key: str, value: Any, known: Mapping[str, UserField]) -> Any:
    """One custom field's value, checked against its definition in the account."""
    name = f"{USER_FIELDS}.{key}"
    definition = known.get(key)
    if definition is None or not definition.active:
        state = "is inactive" if definition is not None else "does not exist"
        raise RecordInvalid(
            "unknown_user_field",
            f"the user field {key!r} {state} in this Zendesk account (Zendesk would ignore it)",
            field=name,
        )
    kind = definition.type
    if kind == "integer" or kind == "lookup":
        return _integer(name, value, "invalid_user_field")
    if kind == "decimal":
        return _decimal(name, value)
    if kind == "checkbox":
        return _boolean(name, value, "invalid_user_field")
    if kind == "date":
        return _date(name, value)
    if kind == "dropdown":
        return _option(name, value, definition)
    if kind == "multiselect":
        items = value if isinstance(value, list | tuple) else _TAG_SPLIT.split(str(value))
        return [_option(name, item, definition) for item in items if str(item).strip()]
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise RecordInvalid("invalid_user_field", "must be text", field=name)
    text = str(value)
    if kind == "regexp" and definition.regexp:
        try:
            pattern = re.compile(definition.regexp)
        except re.error:
            pattern = None  # a Ruby pattern Python cannot read: Zendesk checks it
        if pattern is not None and pattern.fullmatch(text) is None:
            raise RecordInvalid(
                "invalid_user_field", "does not match the field's pattern", field=name
            )
    return text


def _decimal(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise RecordInvalid("invalid_user_field", "must be a number", field=name)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise RecordInvalid("invalid_user_field", "must be a number", field=name) from error
    if not number.is_finite():
        raise RecordInvalid("invalid_user_field", "must be a number", field=name)
    return float(number)


def _date(name: str, value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) == 10 or (len(text) > 10 and text[10] in "T "):
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            pass
    raise RecordInvalid("invalid_user_field", "must be a date (YYYY-MM-DD)", field=name)


def _option(name: str, value: Any, definition: UserField) -> str:
    tag = str(value).strip()
    if tag not in definition.options:
        offered = ", ".join(sorted(definition.options)[:10])
        raise RecordInvalid(
            "invalid_user_field",
            f"{tag!r} is not one of the field's options (their tags: {offered})",
            field=name,
        )
    return tag
