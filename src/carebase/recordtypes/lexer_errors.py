"""Turning jsonschema's errors into `{field, reason}` pairs people can act on, without ever
echoing the value that was sent (it may be personal data)."""

from __future__ import annotations

from typing import Any

import jsonschema

from carebase.recordtypes.redact import PLACEHOLDER, known_fields

Problem = dict[str, str]
LINK_FORMS = (
    "one link form: {email}, {email_sha256}, {email_md5}, {mobile}, {customer_id[, system_name]}, "
    "{external_id, system_name} or {link_type, link_value[, id_type]}"
)


def explain(validator: jsonschema.Draft7Validator, raw: dict[str, Any]) -> list[Problem]:
    """Every problem jsonschema finds, as `{field, reason}`, without repeats."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path))):
        problem = _describe(error)
        marker = (problem["field"], problem["reason"])
        if marker not in seen:
            seen.add(marker)
            problems.append(problem)
    return problems


def field_path(parts: Any) -> str:
    """`products[0].price_paid` from ("products", 0, "price_paid")."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: jsonschema.ValidationError) -> Problem:
    path = field_path(error.absolute_path)
    kind = error.validator
    expected: Any = error.validator_value
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return {"field": field_path([*error.absolute_path, missing]), "reason": "is required"}
    if kind == "anyOf" and (path in {"link", ""} or path.startswith("records[")):
        return {"field": path or "link", "reason": f"must be {LINK_FORMS}"}
    if kind == "anyOf":
        reason = "does not match any allowed shape"
    elif kind == "type":
        reason = f"must be of type {expected}"
    elif kind == "enum":
        reason = "must be one of " + ", ".join(str(item) for item in expected)
    elif kind == "minimum":
        reason = f"must be greater than or equal to {expected}"
    elif kind == "maximum":
        reason = f"must be less than or equal to {expected}"
    elif kind == "exclusiveMaximum":
        reason = f"must be less than {expected}"
    elif kind == "minItems":
        reason = f"must hold at least {expected} item{'s' if expected != 1 else ''}"
    elif kind == "minLength":
        reason = "must not be empty" if expected == 1 else f"needs {expected} characters or more"
    elif kind == "maxLength":
        reason = f"must be at most {expected} characters"
    elif kind == "format":
        reason = {
            "date-time": "must be an ISO 8601 date-time",
            "date": "must be an ISO 8601 date (YYYY-MM-DD)",
            "uri": "must be a URI",
        }.get(str(expected), f"must be a valid {expected}")
    elif kind == "pattern":
        reason = "not a valid email address" if "@" in str(expected) else "has the wrong format"
    elif kind == "additionalProperties":
        # Name the unexpected keys only when they are field names: a key may be an email.
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        known = known_fields()
        extra = (
            [k for k in error.instance if k not in allowed]
            if isinstance(error.instance, dict)
            else []
        )
        reason = "unexpected field(s): " + ", ".join(
            dict.fromkeys(repr(k) if k in known else PLACEHOLDER for k in extra)
        )
    else:
        # jsonschema's own messages quote the value, which may be personal data.
        reason = f"fails the schema's {kind} rule"
    return {"field": path or "(record)", "reason": reason}
