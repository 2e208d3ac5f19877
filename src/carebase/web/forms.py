"""HTML forms: an `application/x-www-form-urlencoded` body, validated by a pydantic model, and
the problems as messages for people, per field.

Form validation never raises: a form with bad input is rendered again, with status 422, each
message beside its field (`_macros.html`'s `field`), the values kept (never a password's), and
the cursor put in the first wrong field (carebase.js). Only a body that is not a form at all is
an error (415). FastAPI's `Form()` is not used: it needs python-multipart, and these forms have
no files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, get_origin
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ValidationError

from carebase.errors import UnsupportedMediaType

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 200
FORM_LEVEL = "__form__"

M = TypeVar("M", bound=BaseModel)


@dataclass
class Form(Generic[M]):
    """A submitted form: the model when valid, else a message per field name."""

    values: dict[str, str]
    data: M | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """Whether the model was built."""
        return self.data is not None and not self.errors


def _message(error: dict[str, Any]) -> str:
    """A pydantic error in words for the person who typed the value."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return "Fill this in."
    if kind == "string_too_short":
        return f"Use at least {context['min_length']} characters."
    if kind == "string_too_long":
        return f"Use at most {context['max_length']} characters."
    if kind in {"int_parsing", "int_from_float"}:
        return "Enter a whole number."
    if kind in {"float_parsing"}:
        return "Enter a number."
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        limit = next(iter(context.values()), "")
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }
        return f"Enter a number {words[kind]} {limit}."
    if kind in {"literal_error", "enum"}:
        return "Choose one of the options."
    if kind == "value_error":
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ") or "This is not valid."
    return str(error.get("msg") or "This is not valid.")


def _is_list(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields.get(name)
    return info is not None and get_origin(info.annotation) in {list, tuple, set, frozenset}


def parse_form(body: bytes, model: type[M], *, secret: frozenset[str] = frozenset()) -> Form[M]:
    """Validate an urlencoded `body` with `model`. Repeated names become a list where the
    model's field is one (checkboxes); `secret` names are never echoed back."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return Form(values={}, errors={FORM_LEVEL: "The form could not be read; try again."})
    collected: dict[str, Any] = {}
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name:
            continue
        if "\x00" in value:
            errors[name] = "Remove the NUL character."
            value = value.replace("\x00", "")
        if _is_list(model, name):
            collected.setdefault(name, []).append(value)
        else:
            collected[name] = value
        if name not in secret:
            values[name] = value
    if errors:
        return Form(values=values, errors=errors)
    try:
        data = model.model_validate(collected)
    except ValidationError as invalid:
        for error in invalid.errors():
            location = error.get("loc") or (FORM_LEVEL,)
            errors.setdefault(str(location[0]), _message(dict(error)))
        return Form(values=values, errors=errors)
    return Form(values=values, data=data)


async def read_form(
    request: Request, model: type[M], *, secret: frozenset[str] = frozenset()
) -> Form[M]:
    """The request's form, validated by `model` (415 when the body is not a form)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != FORM_CONTENT_TYPE:
        raise UnsupportedMediaType(
            details={"content_type": content_type or None, "expected": FORM_CONTENT_TYPE}
        )
    return parse_form(await request.body(), model, secret=secret)
