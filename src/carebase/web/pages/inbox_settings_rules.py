"""Settings > Inbox > a queue's rules (managers only): the ordered list (move up or down,
enable or disable, delete), and the rule form: conditions (terms, source types, authors;
every one given must match) and actions (classify with live classifications, set a closing
state, assign to a user or a group, redact cards, emails or phones). The service is
`inbox.rules_service`; it names the field of each problem, shown beside the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from carebase.errors import ValidationFailed
from carebase.inbox import classifications, queues, rules_service
from carebase.inbox.rules import REDACT_KINDS, RULE_STATES
from carebase.inbox.workflow import LABELS
from carebase.models.inbox import InboxRule
from carebase.web.actions import now_of, read, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox_settings_frame import (
    FormPage,
    Input,
    PageAction,
    checked,
    done_redirect,
    form_page,
    problems,
    render_inbox,
    toast_for,
    with_lists,
)
from carebase.web.pages.inbox_settings_lookups import (
    Choices,
    classification_choices,
    group_choices,
    user_choices,
)
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

QueueId = Annotated[str, Path(min_length=1, max_length=40)]
RuleId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
Name = Annotated[str | None, Query(max_length=300)]

_WORDS = {
    "created": "Created the rule {name}. It runs on new mentions from now on.",
    "saved": "Saved the rule {name}.",
    "moved": "Moved the rule {name}.",
    "enabled": "Enabled the rule {name}.",
    "disabled": "Disabled the rule {name}: it no longer runs.",
    "deleted": "Deleted the rule {name}.",
}
REDACT_LABELS = {"cards": "Card numbers", "emails": "Email addresses", "phones": "Phone numbers"}
# The service's names for the form's inputs (`actions.assign.user_id` → `assign`).
_RENAMES = {
    "conditions.terms": "terms",
    "conditions.source_types": "source_types",
    "conditions.authors": "authors",
    "conditions": "terms",
    "actions.classify": "classify",
    "actions.state": "state",
    "actions.assign": "assign",
    "actions.redact": "redact",
}
_INPUTS = frozenset(
    {"name", "enabled", "stop", "terms", "source_types", "authors", "classify", "state"}
    | {"assign", "redact"}
)
_LISTS = ("classify", "redact")
_SPLIT = re.compile(r"[\n,]")
_INDEX = re.compile(r"\[\d+\]")
_ASSIGN = re.compile(r"(user|group):\d{1,18}")


class RuleForm(BaseModel):
    """A rule's fields as the form sends them."""

    name: str = Field(min_length=1, max_length=200)
    enabled: Literal["", "on"] = ""
    stop: Literal["", "on"] = ""
    terms: str = Field(default="", max_length=40_000)
    source_types: str = Field(default="", max_length=8_000)
    authors: str = Field(default="", max_length=40_000)
    classify: list[int] = Field(default_factory=list, max_length=200)
    state: str = Field(default="", max_length=40)
    assign: str = Field(default="", max_length=40)
    redact: list[Literal["cards", "emails", "phones"]] = Field(default_factory=list)

    @field_validator("assign")
    @classmethod
    def _person_or_group(cls, value: str) -> str:
        if value and not _ASSIGN.fullmatch(value):
            raise ValueError("Choose a person or a group from the list.")
        return value


@dataclass(frozen=True)
class RuleRow:
    """A rule in its queue's list, in words."""

    id: str
    queue_id: str
    name: str
    position: int
    enabled: bool
    stop: bool
    conditions: list[tuple[str, str]]
    actions: list[tuple[str, str]]


def _lines(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


def _body(data: RuleForm) -> tuple[dict[str, Any], dict[str, Any]]:
    """The service's conditions and actions from the form."""
    conditions = {
        "terms": [t.strip() for t in data.terms.splitlines() if t.strip()],
        "source_types": [s.lower() for s in _lines(data.source_types)],
        "authors": _lines(data.authors),
    }
    assign: dict[str, int] | None = None
    if data.assign:
        kind, _, number = data.assign.partition(":")
        assign = {f"{kind}_id": int(number)}
    actions = {
        "classify": data.classify,
        "state": data.state or None,
        "assign": assign,
        "redact": list(data.redact),
    }
    return conditions, actions


def _values(rule: InboxRule) -> dict[str, Any]:
    """The form's values for a stored rule."""
    assign = rule.actions.get("assign") or {}
    chosen = next(iter(assign.items()), None)
    return {
        "name": rule.name,
        "enabled": "on" if rule.enabled else "",
        "stop": "on" if rule.stop else "",
        "terms": "\n".join(rule.conditions.get("terms") or []),
        "source_types": ", ".join(rule.conditions.get("source_types") or []),
        "authors": "\n".join(rule.conditions.get("authors") or []),
        "classify": [str(c) for c in rule.actions.get("classify") or []],
        "state": rule.actions.get("state") or "",
        "assign": f"{chosen[0].removesuffix('_id')}:{chosen[1]}" if chosen else "",
        "redact": list(rule.actions.get("redact") or []),
    }


def _row(rule: InboxRule, names: dict[str, str]) -> RuleRow:
    conditions = [
        (label, ", ".join(rule.conditions.get(key) or []))
        for key, label in (
            ("terms", "Mentions"),
            ("source_types", "From"),
            ("authors", "By"),
        )
        if rule.conditions.get(key)
    ]
    actions: list[tuple[str, str]] = []
    if rule.actions.get("classify"):
        labels = [names.get(f"c{c}", f"#{c}") for c in rule.actions["classify"]]
        actions.append(("Classify", ", ".join(labels)))
    if rule.actions.get("state"):
        actions.append(("Set state", LABELS.get(rule.actions["state"], rule.actions["state"])))
    for kind, number in (rule.actions.get("assign") or {}).items():
        key = ("u" if kind == "user_id" else "g") + str(number)
        actions.append(("Assign to", names.get(key, f"#{number}")))
    if rule.actions.get("redact"):
        kinds = [REDACT_LABELS.get(k, k).lower() for k in rule.actions["redact"]]
        actions.append(("Redact", ", ".join(kinds)))
    return RuleRow(
        id=rule.id,
        queue_id=rule.queue_id,
        name=rule.name,
        position=rule.position,
        enabled=rule.enabled,
        stop=rule.stop,
        conditions=conditions,
        actions=actions,
    )


def _names(session: Session) -> dict[str, str]:
    """Classifications (archived too), users and groups by a prefixed id, for the list."""
    names = {f"c{c.id}": c.name for c in classifications.list_classifications(session)}
    names.update({f"u{v}": label for v, label in user_choices(session)})
    names.update({f"g{v}": f"{label} (group)" for v, label in group_choices(session)})
    return names


@router.get("/settings/inbox/queues/{queue_id}/rules")
async def rules_page(
    request: Request, _manager: Manager, queue_id: QueueId, done: Done = None, name: Name = None
) -> HTMLResponse:
    """A queue's rules in the order they run."""

    def work(session: Session) -> tuple[str, list[RuleRow]]:
        queue = queues.get_queue(session, queue_id)
        names = _names(session)
        return queue.name, [_row(r, names) for r in rules_service.list_rules(session, queue_id)]

    queue_name, rows = await read(request, work)
    return render_inbox(
        request,
        "inbox_settings/rules.html",
        {
            "queue_id": queue_id,
            "queue_name": queue_name,
            "rows": rows,
            "toast": toast_for(done, _WORDS, name or ""),
        },
    )


@dataclass(frozen=True)
class _Choices:
    classify: Choices
    users: Choices
    groups: Choices


def _choices(session: Session) -> _Choices:
    return _Choices(classification_choices(session), user_choices(session), group_choices(session))


def _page(
    queue_id: str, queue_name: str, choices: _Choices, editing: InboxRule | None = None
) -> FormPage:
    states = [("", "Leave it as it is"), *((s, LABELS[s]) for s in sorted(RULE_STATES))]
    inputs = [
        Input("name", "Name", hint="What it does, e.g. Refund requests to billing.", required=True),
        Input("enabled", "Enabled", kind="checkbox", hint="A disabled rule does not run."),
        Input("terms", "Words or phrases", kind="textarea", hint="One per line; any may match."),
        Input(
            "source_types",
            "Source types",
            hint="Comma-separated, e.g. twitter, email, chat (any may match).",
        ),
        Input(
            "authors",
            "Authors",
            kind="textarea",
            hint="Handles, author keys or emails, one per line (any may match).",
        ),
        Input(
            "classify",
            "Classify as",
            kind="checkboxes",
            options=choices.classify,
            hint="Archived classifications cannot be applied.",
        ),
        Input(
            "state",
            "Set the state to",
            kind="select",
            options=states,
            hint="Close it without an answer (not with an assignment).",
        ),
        Input(
            "assign",
            "Assign to",
            kind="select",
            options=[("", "Nobody")],
            groups=[
                ("People", [(f"user:{v}", label) for v, label in choices.users]),
                (
                    "Groups (by capacity)",
                    [(f"group:{v}", label) for v, label in choices.groups],
                ),
            ],
        ),
        Input(
            "redact",
            "Redact",
            kind="checkboxes",
            options=[(k, REDACT_LABELS[k]) for k in REDACT_KINDS],
            hint="Removed from the message for good before anyone reads it.",
        ),
        Input(
            "stop",
            "Stop here",
            kind="checkbox",
            hint="Later rules do not run after this one matched.",
        ),
    ]
    back = (f"Rules of {queue_name}", f"/settings/inbox/queues/{queue_id}/rules")
    intro = "Every condition given must match; leave a condition empty to ignore it."
    if editing is None:
        return FormPage(
            title="New rule",
            action=f"/settings/inbox/queues/{queue_id}/rules/new",
            inputs=inputs,
            back=back,
            submit="Create rule",
            intro=intro,
        )
    return FormPage(
        title=editing.name,
        action=f"/settings/inbox/rules/{editing.id}",
        inputs=inputs,
        back=back,
        intro=intro,
        actions=[PageAction("Delete", f"/settings/inbox/rules/{editing.id}/delete", "close")],
    )


def _errors(error: ValidationFailed) -> dict[str, str]:
    """The service's problems beside the form's inputs (`actions.classify[2]` → classify)."""
    details: Any = error.details
    cleaned = [
        {**item, "field": _INDEX.sub("", str(item.get("field", "")))}
        for item in (details if isinstance(details, list) else [])
        if isinstance(item, dict)
    ]
    return problems(ValidationFailed(error.message, details=cleaned), _INPUTS, renames=_RENAMES)


@router.get("/settings/inbox/queues/{queue_id}/rules/new")
async def new_rule_page(request: Request, _manager: Manager, queue_id: QueueId) -> HTMLResponse:
    """The form for a new rule, last in the queue's order."""
    name, choices = await read(request, lambda s: (queues.get_queue(s, queue_id).name, _choices(s)))
    return form_page(request, _page(queue_id, name, choices), values={"enabled": "on"}, errors={})


@router.post("/settings/inbox/queues/{queue_id}/rules/new")
async def create_rule(request: Request, _manager: Manager, queue_id: QueueId) -> Response:
    """Create a rule, last in its queue's order."""
    form = await read_form(request, RuleForm)
    name, choices = await read(request, lambda s: (queues.get_queue(s, queue_id).name, _choices(s)))
    page = _page(queue_id, name, choices)
    values = await with_lists(request, form.values, _LISTS)
    if form.data is None:
        return form_page(request, page, values=values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    conditions, actions = _body(data)
    try:
        created = await write(
            request,
            lambda s: (
                rules_service.create_rule(
                    s,
                    queue_id,
                    data.name,
                    conditions,
                    actions,
                    now,
                    enabled=checked(form.values, "enabled"),
                    stop=checked(form.values, "stop"),
                ).name
            ),
        )
    except ValidationFailed as error:
        return form_page(request, page, values=values, errors=_errors(error), status_code=422)
    return done_redirect(f"/settings/inbox/queues/{queue_id}/rules", "created", created)


async def _rule(request: Request, rule_id: str) -> tuple[InboxRule, str, _Choices]:
    def work(session: Session) -> tuple[InboxRule, str, _Choices]:
        rule = rules_service.get_rule(session, rule_id)
        session.expunge(rule)
        return rule, queues.get_queue(session, rule.queue_id).name, _choices(session)

    return await read(request, work)


@router.get("/settings/inbox/rules/{rule_id}")
async def edit_rule_page(request: Request, _manager: Manager, rule_id: RuleId) -> HTMLResponse:
    """A rule's form, filled in."""
    rule, queue_name, choices = await _rule(request, rule_id)
    page = _page(rule.queue_id, queue_name, choices, rule)
    return form_page(request, page, values=_values(rule), errors={})


@router.post("/settings/inbox/rules/{rule_id}")
async def save_rule(request: Request, _manager: Manager, rule_id: RuleId) -> Response:
    """Save a rule's conditions, actions, and whether it runs or stops the others."""
    form = await read_form(request, RuleForm)
    rule, queue_name, choices = await _rule(request, rule_id)
    page = _page(rule.queue_id, queue_name, choices, rule)
    values = await with_lists(request, form.values, _LISTS)
    if form.data is None:
        return form_page(request, page, values=values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    conditions, actions = _body(data)
    try:
        saved = await write(
            request,
            lambda s: (
                rules_service.update_rule(
                    s,
                    rule_id,
                    now,
                    name=data.name,
                    conditions=conditions,
                    actions=actions,
                    enabled=checked(form.values, "enabled"),
                    stop=checked(form.values, "stop"),
                ).name
            ),
        )
    except ValidationFailed as error:
        return form_page(request, page, values=values, errors=_errors(error), status_code=422)
    return done_redirect(f"/settings/inbox/queues/{rule.queue_id}/rules", "saved", saved)


@router.post("/settings/inbox/rules/{rule_id}/{verb}")
async def change_rule(
    request: Request,
    _manager: Manager,
    rule_id: RuleId,
    verb: Literal["up", "down", "enable", "disable", "delete"],
) -> Response:
    """Move a rule up or down its queue's order, enable, disable or delete it."""
    now = now_of(request)

    def work(session: Session) -> tuple[str, str]:
        rule = rules_service.get_rule(session, rule_id)
        queue_id, name = rule.queue_id, rule.name
        if verb in ("enable", "disable"):
            rules_service.set_enabled(session, rule_id, verb == "enable", now)
        elif verb == "delete":
            rules_service.delete_rule(session, rule_id, now)
        else:
            order = [r.id for r in rules_service.list_rules(session, queue_id)]
            at = order.index(rule_id)
            to = at - 1 if verb == "up" else at + 1
            if 0 <= to < len(order):
                order[at], order[to] = order[to], order[at]
                rules_service.reorder(session, queue_id, order, now)
        return queue_id, name

    queue_id, name = await write(request, work)
    done = {"up": "moved", "down": "moved", "enable": "enabled", "disable": "disabled"}
    return done_redirect(
        f"/settings/inbox/queues/{queue_id}/rules", done.get(verb, "deleted"), name
    )
