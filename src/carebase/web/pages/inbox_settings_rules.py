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
from sqlalchemy.orm import Session

from carebase.errors import ValidationFailed
from carebase.inbox import queues, rules_service
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
from carebase.web.pages.inbox_settings_rule_form import (
    REDACT_LABELS,
    RuleForm,
    RuleRow,
    form_values,
    rule_body,
    rule_names,
    rule_row,
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
_INDEX = re.compile(r"\[\d+\]")


@router.get("/settings/inbox/queues/{queue_id}/rules")
async def rules_page(
    request: Request, _manager: Manager, queue_id: QueueId, done: Done = None, name: Name = None
) -> HTMLResponse:
    """A queue's rules in the order they run."""

    def work(session: Session) -> tuple[str, list[RuleRow]]:
        queue = queues.get_queue(session, queue_id)
        names = rule_names(session)
        return queue.name, [rule_row(r, names) for r in rules_service.list_rules(session, queue_id)]

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
    conditions, actions = rule_body(data)
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
    return form_page(request, page, values=form_values(rule), errors={})


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
    conditions, actions = rule_body(data)
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
