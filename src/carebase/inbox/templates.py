"""Reply templates: saved texts agents start a reply from, with `{{ profile.first_name }}`-style
variables filled from the customer's profile.

Templates are Jinja2, rendered in a SandboxedEnvironment: no attribute whose name starts with
an underscore, no unsafe calls, nothing larger than a reply. The syntax is checked when a
template is saved (a 422 naming `body`, as is any `_private` attribute); a variable the profile
has no value for renders empty (a missing profile too), so one template serves every customer;
whatever fails when rendered is a 422 naming `body`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from carebase.errors import NameTaken, NotFound, ValidationFailed
from carebase.ids import new_id
from carebase.inbox import templates_repository as repository
from carebase.models import MessageTemplate, utcnow
from carebase.profiles import service as profiles

MAX_NAME = 200
MAX_BODY = 10_000
# A rendered template fills a reply, which holds at most replies.MAX_BODY characters.
MAX_RENDERED = 10_000
MAX_EXPONENT = 1_000
# Customer fields offered at the top of `profile` (profile.first_name), besides the sections.
_SECTIONS = ("customer", "commerce", "engagement")


def _finalize(value: Any) -> Any:
    """A missing value (None) renders empty, not as "None"."""
    return "" if value is None else value


class _Environment(SandboxedEnvironment):
    """The sandbox, with repetition (`'a' * n`) and powers kept to what a reply can hold: the
    sandbox itself caps only `range`, so one expression could otherwise fill the memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """`left <operator> right`, refused when its result would be too large."""
        sized = (str, list, tuple)
        if operator == "*" and isinstance(left, sized) and isinstance(right, int):
            _check_size(len(left) * right)
        elif operator == "*" and isinstance(right, sized) and isinstance(left, int):
            _check_size(len(right) * left)
        elif operator == "**" and isinstance(right, int) and right > MAX_EXPONENT:
            raise SecurityError(f"an exponent above {MAX_EXPONENT}")
        return super().call_binop(context, operator, left, right)


def _check_size(size: int) -> None:
    if size > MAX_RENDERED:
        raise SecurityError(f"a value longer than {MAX_RENDERED}")


# Plain text: replies are not HTML, so nothing is escaped.
_ENVIRONMENT = _Environment(
    undefined=ChainableUndefined, autoescape=False, finalize=_finalize, keep_trailing_newline=True
)
# Filler text has no place in a reply, and `lipsum(n)` makes n paragraphs.
del _ENVIRONMENT.globals["lipsum"]


def _bounded(function: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, refusing a number larger than a reply (a width, an indent, a count)."""

    # The filtered value is not an argument: it comes first, after the context or environment
    # a filter marked `jinja_pass_arg` is given.
    skip = 2 if hasattr(function, "jinja_pass_arg") else 1

    @functools.wraps(function)  # keeps jinja's pass_context/pass_environment marks
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[skip:], *kwargs.values()):
            if isinstance(value, int) and abs(value) > MAX_RENDERED:
                raise SecurityError(f"a filter's argument above {MAX_RENDERED}")
        return function(*args, **kwargs)

    return bounded


_ENVIRONMENT.filters = {name: _bounded(f) for name, f in _ENVIRONMENT.filters.items()}


def check_syntax(body: str) -> None:
    """A 422 naming `body` when the template does not parse or reaches for a private
    (`_…`) attribute."""
    try:
        tree = _ENVIRONMENT.parse(body)
        # Compiling also finds an unknown filter or test (`{{ x | nosuch }}`).
        _ENVIRONMENT.compile(tree)
    except TemplateSyntaxError as error:
        raise ValidationFailed.on(
            "body", f"is not a valid template (line {error.lineno}: {error.message})"
        ) from error
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            name: Any = node.attr
        else:
            assert isinstance(node, nodes.Getitem)
            name = _constant(node.arg)
        if isinstance(name, str) and name.startswith("_"):
            raise ValidationFailed.on("body", f"may not use the private attribute {name!r}")


def _constant(node: nodes.Node) -> Any:
    return node.value if isinstance(node, nodes.Const) else None


def render_body(body: str, variables: dict[str, Any]) -> str:
    """A template's text with `variables` filled in (sandboxed); a 422 naming `body` when it
    tries something the sandbox forbids."""
    rendered: list[str] = []
    size = 0
    try:
        # Piece by piece, so a template that renders too much is stopped as it grows.
        for piece in _ENVIRONMENT.from_string(body).generate(**variables):
            size += len(piece)
            _check_size(size)
            rendered.append(piece)
    except (
        TemplateError,  # the sandbox's refusals, a missing value's use, a filter's bad argument
        TypeError,
        ValueError,
        ArithmeticError,
        LookupError,  # '{0}'.format()
        RecursionError,  # a macro calling itself
        MemoryError,  # a filter asked for a gigantic width
    ) as error:
        raise ValidationFailed.on("body", f"cannot be rendered: {type(error).__name__}") from error
    return "".join(rendered)


def profile_variables(session: Session, profile_id: str | None, now: datetime) -> dict[str, Any]:
    """What `profile` holds in a template: the customer fields at the top (first_name,
    last_name, email, mobile, city, country, loyalty, custom_fields …), and the sections
    `customer`, `commerce`, `engagement` and `support` (the support attributes), as the
    Profile Read API answers them. Empty for no profile (or an unknown one)."""
    if profile_id is None:
        return {}
    found = profiles.read_many(session, [profile_id], now=now)
    if not found:
        return {}
    body = found[0].model_dump(mode="json")
    variables: dict[str, Any] = dict(body["customer"])
    for section in _SECTIONS:
        variables[section] = body[section]
    variables["support"] = body["attributes"]
    variables["id"] = body["id"]
    return variables


def render_template(
    session: Session, template_id: str, profile_id: str | None, *, now: datetime | None = None
) -> str:
    """The template filled in for a profile (None: every variable empty)."""
    template = get_template(session, template_id)
    # `now` only positions the support attributes' windows (tickets in the last 30 days).
    variables = profile_variables(session, profile_id, now or utcnow())
    return render_body(template.body, {"profile": variables})


def get_template(session: Session, template_id: str) -> MessageTemplate:
    """One template, or NotFound."""
    template = repository.get(session, template_id)
    if template is None:
        raise NotFound(f"No template with id {template_id!r}.")
    return template


def usable(session: Session, template_id: str) -> MessageTemplate:
    """A template a reply may name: it exists and is not archived (a 422 naming
    `template_id` otherwise)."""
    template = repository.get(session, template_id)
    if template is None or template.archived_at is not None:
        raise ValidationFailed.on("template_id", "is not a live template")
    return template


def list_templates(
    session: Session, *, user_id: int | None = None, archived: bool = False
) -> list[MessageTemplate]:
    """Templates by name; with `user_id`, only those the user's groups see (a template for
    no group is everyone's)."""
    found = repository.all_templates(session, archived=archived)
    if user_id is None:
        return found
    groups = repository.groups_of(session, user_id)
    return [t for t in found if not t.group_ids or groups & set(t.group_ids)]


def create_template(
    session: Session, *, name: str, body: str, group_ids: Sequence[int], now: datetime
) -> MessageTemplate:
    """A new template (name unique, body a valid template, groups existing)."""
    clean_name = _clean_name(session, name, other_than=None)
    template = MessageTemplate(
        id=new_id("tpl"),
        name=clean_name,
        body=_clean_body(body),
        group_ids=_clean_groups(session, group_ids),
        archived_at=None,
        created_at=now,
        updated_at=now,
    )
    if not repository.add(session, template):
        raise NameTaken(f"A template called {clean_name!r} exists already.")
    return template


def update_template(
    session: Session,
    template_id: str,
    *,
    now: datetime,
    name: str | None = None,
    body: str | None = None,
    group_ids: Sequence[int] | None = None,
    archived: bool | None = None,
) -> MessageTemplate:
    """Change a template's fields given; archiving hides it from new replies."""
    template = repository.lock(session, template_id)
    if template is None:
        raise NotFound(f"No template with id {template_id!r}.")
    if name is not None:
        template.name = _clean_name(session, name, other_than=template_id)
    if body is not None:
        template.body = _clean_body(body)
    if group_ids is not None:
        template.group_ids = _clean_groups(session, group_ids)
    if archived is not None:
        template.archived_at = (template.archived_at or now) if archived else None
    template.updated_at = now
    if not repository.save(session):
        raise NameTaken(f"A template called {template.name!r} exists already.")
    return template


def delete_template(session: Session, template_id: str) -> None:
    """Delete a template; replies written from it keep their text."""
    template = repository.lock(session, template_id)
    if template is None:
        raise NotFound(f"No template with id {template_id!r}.")
    repository.delete(session, template)


def _clean_name(session: Session, name: str, *, other_than: str | None) -> str:
    text = name.strip()
    if not text:
        raise ValidationFailed.on("name", "must not be empty")
    if len(text) > MAX_NAME or "\x00" in text:
        raise ValidationFailed.on("name", f"must be 1 to {MAX_NAME} characters, no NUL")
    if repository.name_taken(session, text, other_than=other_than):
        raise NameTaken(f"A template called {text!r} exists already.")
    return text


def _clean_body(body: str) -> str:
    if not body.strip():
        raise ValidationFailed.on("body", "must not be empty")
    if len(body) > MAX_BODY or "\x00" in body:
        raise ValidationFailed.on("body", f"must be 1 to {MAX_BODY} characters, no NUL")
    check_syntax(body)
    return body


def _clean_groups(session: Session, group_ids: Sequence[int]) -> list[int]:
    wanted = sorted(set(group_ids))
    missing = set(wanted) - repository.existing_groups(session, wanted)
    if missing:
        raise ValidationFailed.on("group_ids", f"no such group: {min(missing)}")
    return wanted
