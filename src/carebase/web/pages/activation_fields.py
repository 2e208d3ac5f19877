"""A destination kind's form, derived from its pydantic models (`activation.kinds.KINDS`): one
input per config and secrets field, typed, labelled and bounded by what the model says, so a
field added to a kind appears in the console without a template change.

Inputs are named `config.<field>` and `secrets.<field>`; a blank optional input is left out
(the model's default applies, or a secret is kept on edit, or generated on create).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from carebase.activation.channel import DestinationKind

# Words that read better in capitals than as the model spells them.
_UPPER = {"url": "URL", "api": "API", "sftp": "SFTP", "id": "ID", "ssh": "SSH"}
# A text longer than this is typed (pasted) in a textarea: keys, certificates.
_TEXTAREA_OVER = 2000


@dataclass(frozen=True)
class FormField:
    """One input of a destination form."""

    name: str  # config.base_url
    label: str
    input: Literal["text", "number", "password", "textarea", "select"]
    required: bool
    default: str | None
    hint: str | None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    secret: bool = False

    @property
    def id(self) -> str:
        """The input's id: dots are awkward in CSS selectors."""
        return self.name.replace(".", "-")


def label_of(name: str) -> str:
    """`base_url` → `Base URL`."""
    words = [_UPPER.get(word, word) for word in name.split("_")]
    first = words[0]
    words[0] = first if first.isupper() else first.capitalize()
    return " ".join(words)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without `| None`, and whether None was allowed."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _bounds(info: FieldInfo) -> tuple[int | None, int | None, int | None]:
    minimum = maximum = max_length = None
    for item in info.metadata:
        if isinstance(item, Ge):
            minimum = int(item.ge)  # type: ignore[call-overload]
        elif isinstance(item, Gt):
            minimum = int(item.gt) + 1  # type: ignore[call-overload]
        elif isinstance(item, Le):
            maximum = int(item.le)  # type: ignore[call-overload]
        elif isinstance(item, Lt):
            maximum = int(item.lt) - 1  # type: ignore[call-overload]
        elif isinstance(item, MaxLen):
            max_length = item.max_length
    return minimum, maximum, max_length


def _field(prefix: str, name: str, info: FieldInfo, *, secret: bool) -> FormField:
    annotation, nullable = _unwrap(info.annotation)
    minimum, maximum, max_length = _bounds(info)
    required = info.is_required()
    default = None if required or info.default is None else str(info.default)
    choices: tuple[str, ...] = ()
    kind: Literal["text", "number", "password", "textarea", "select"] = "text"
    if get_origin(annotation) is Literal:
        kind, choices = "select", tuple(str(arg) for arg in get_args(annotation))
    elif annotation is int:
        kind = "number"
    elif max_length is not None and max_length > _TEXTAREA_OVER:
        kind = "textarea"
    elif secret:
        kind = "password"
    hint = info.description
    if default is not None and kind != "select":
        hint = f"{hint} If left blank: {default}" if hint else f"If left blank: {default}"
    elif nullable and not required and not hint:
        hint = "Optional."
    return FormField(
        name=f"{prefix}.{name}",
        label=label_of(name),
        input=kind,
        required=required,
        default=default,
        hint=hint,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        max_length=max_length,
        secret=secret,
    )


def model_fields(prefix: str, model: type[BaseModel], *, secret: bool) -> list[FormField]:
    """The inputs for one of a kind's models, in the model's order."""
    return [_field(prefix, name, info, secret=secret) for name, info in model.model_fields.items()]


def kind_fields(kind: DestinationKind) -> tuple[list[FormField], list[FormField]]:
    """A kind's config inputs and its secrets inputs."""
    return (
        model_fields("config", kind.config_model, secret=False),
        model_fields("secrets", kind.secrets_model, secret=True),
    )


def split_form(
    values: Mapping[str, str], kind: DestinationKind
) -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted `config.*` and `secrets.*` inputs as the API's `config` and `secrets`:
    blank inputs left out, numbers kept as typed (the model converts and says what is wrong)."""
    config_fields, secret_fields = kind_fields(kind)
    config: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for field in config_fields:
        value = values.get(field.name, "").strip()
        if value:
            config[field.name.split(".", 1)[1]] = value
    for field in secret_fields:
        # A secret is taken as typed (a key's trailing newline matters), only a blank dropped.
        value = values.get(field.name, "")
        if value.strip():
            secrets[field.name.split(".", 1)[1]] = value
    return config, secrets


def config_values(config: Mapping[str, Any]) -> dict[str, str]:
    """A destination's stored config as form values (`config.<field>`) for its edit form."""
    return {f"config.{name}": "" if value is None else str(value) for name, value in config.items()}
