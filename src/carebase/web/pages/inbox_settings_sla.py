"""Settings > Inbox > SLA policies (managers only): the targets mentions are measured
against (customer and agent SLA in minutes or hours, in calendar time or business hours,
one the default). Business hours and the workflow settings have their own modules
(`inbox_settings_hours`, `inbox_settings_workflow`). The service is `inbox.policies`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import Conflict, ValidationFailed
from carebase.inbox import policies
from carebase.models.inbox import SlaPolicy
from carebase.web.actions import Toast, now_of, read, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox_settings_frame import (
    FormPage,
    Input,
    PageAction,
    checked,
    done_redirect,
    form_page,
    minutes_text,
    problems,
    render_inbox,
    toast_for,
)
from carebase.web.pages.inbox_settings_lookups import (
    Choices,
    hours_choices,
)
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

PolicyId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
Name = Annotated[str | None, Query(max_length=300)]
Unit = Literal["minutes", "hours"]
UNITS: dict[str, int] = {"minutes": 60, "hours": 3600, "days": 86400}
UNIT_CHOICES = [("minutes", "minutes"), ("hours", "hours")]

_WORDS = {
    "created": "Created the SLA policy {name}. Choose it on a queue to use it.",
    "saved": "Saved the SLA policy {name}. Mentions already received keep the targets they had.",
    "deleted": "Deleted the SLA policy {name}.",
}
_POLICY_INPUTS = frozenset(
    {"name", "customer_sla", "customer_sla_unit", "agent_sla", "agent_sla_unit"}
    | {"business_hours_id", "is_default"}
)
_POLICY_RENAMES = {"customer_sla_seconds": "customer_sla", "agent_sla_seconds": "agent_sla"}


class PolicyForm(BaseModel):
    """A policy's fields: each target a whole number of minutes or hours."""

    name: str = Field(min_length=1, max_length=200)
    customer_sla: int = Field(ge=1, le=600_000)
    customer_sla_unit: Unit = "hours"
    agent_sla: int = Field(ge=1, le=600_000)
    agent_sla_unit: Unit = "hours"
    business_hours_id: str = Field(default="", max_length=40)
    is_default: Literal["", "on"] = ""


@dataclass(frozen=True)
class PolicyRow:
    """A policy as the pages show it."""

    id: str
    name: str
    customer_sla: str
    agent_sla: str
    hours: str
    hours_id: str
    is_default: bool
    customer_seconds: int
    agent_seconds: int


def in_unit(seconds: int) -> tuple[int, str]:
    """A duration in the largest of hours or minutes that states it exactly."""
    if seconds % 3600 == 0:
        return seconds // 3600, "hours"
    return max(seconds // 60, 1), "minutes"


def _row(policy: SlaPolicy, hours: dict[str, str]) -> PolicyRow:
    return PolicyRow(
        id=policy.id,
        name=policy.name,
        customer_sla=minutes_text(policy.customer_sla_seconds),
        agent_sla=minutes_text(policy.agent_sla_seconds),
        hours=hours.get(policy.business_hours_id or "", "Calendar time (around the clock)"),
        hours_id=policy.business_hours_id or "",
        is_default=policy.is_default,
        customer_seconds=policy.customer_sla_seconds,
        agent_seconds=policy.agent_sla_seconds,
    )


def _rows(session: Session) -> list[PolicyRow]:
    hours = dict(hours_choices(session))
    rows = [_row(p, hours) for p in policies.list_policies(session)]
    return sorted(rows, key=lambda r: (not r.is_default, r.name.lower()))


async def _list_page(
    request: Request, toast: Toast | None, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    rows = await write(request, _rows)  # the default policy is created on first use
    return render_inbox(
        request,
        "inbox_settings/policies.html",
        {"rows": rows, "toast": toast, "error": error},
        status_code=status_code,
    )


@router.get("/settings/inbox/sla-policies")
async def policies_page(
    request: Request, _manager: Manager, done: Done = None, name: Name = None
) -> HTMLResponse:
    """Every SLA policy, the default first."""
    return await _list_page(request, toast_for(done, _WORDS, name or ""))


def _policy_page(hours: Choices, editing: PolicyRow | None = None) -> FormPage:
    inputs = [
        Input("name", "Name", hint="Unique, e.g. VIP or Social.", required=True),
        Input(
            "customer_sla",
            "Customer SLA",
            kind="number",
            hint="From the customer's message to the first response.",
        ),
        Input("customer_sla_unit", "Customer SLA unit", kind="select", options=UNIT_CHOICES),
        Input(
            "agent_sla",
            "Agent SLA",
            kind="number",
            hint="From the first assignment to the first response.",
        ),
        Input("agent_sla_unit", "Agent SLA unit", kind="select", options=UNIT_CHOICES),
        Input(
            "business_hours_id",
            "Measured in",
            kind="select",
            options=[("", "Calendar time (around the clock)"), *hours],
            hint="Business hours count only the time the team works.",
        ),
        Input(
            "is_default",
            "The default policy",
            kind="checkbox",
            hint="Queues that choose no policy use it (one policy is always the default).",
        ),
    ]
    back = ("SLA policies", "/settings/inbox/sla-policies")
    if editing is None:
        return FormPage(
            title="New SLA policy",
            action="/settings/inbox/sla-policies/new",
            inputs=inputs,
            back=back,
            submit="Create policy",
        )
    return FormPage(
        title=editing.name,
        action=f"/settings/inbox/sla-policies/{editing.id}",
        inputs=inputs,
        back=back,
        notice="Changes apply to mentions received from now on.",
        actions=(
            []
            if editing.is_default
            else [
                PageAction("Delete", f"/settings/inbox/sla-policies/{editing.id}/delete", "close")
            ]
        ),
    )


def _policy_values(data: PolicyForm) -> dict[str, Any]:
    return {
        "name": data.name,
        "customer_sla_seconds": data.customer_sla * UNITS[data.customer_sla_unit],
        "agent_sla_seconds": data.agent_sla * UNITS[data.agent_sla_unit],
        "business_hours_id": data.business_hours_id or None,
    }


def _policy_errors(error: ValidationFailed | Conflict) -> dict[str, str]:
    if isinstance(error, ValidationFailed):
        messages = problems(error, _POLICY_INPUTS, renames=_POLICY_RENAMES)
        # The service counts seconds; the form, minutes or hours.
        for name in ("customer_sla", "agent_sla"):
            if name in messages and "seconds" in messages[name]:
                messages[name] = "Enter at least 1 minute and at most 366 days."
        return messages
    return {"name": error.message[0].upper() + error.message[1:] + "."}


@router.get("/settings/inbox/sla-policies/new")
async def new_policy_page(request: Request, _manager: Manager) -> HTMLResponse:
    """The form for a new policy (2 hours each, calendar time)."""
    hours = await read(request, hours_choices)
    values = {"customer_sla": "2", "customer_sla_unit": "hours"}
    values.update({"agent_sla": "2", "agent_sla_unit": "hours"})
    return form_page(request, _policy_page(hours), values=values, errors={})


@router.post("/settings/inbox/sla-policies/new")
async def create_policy(request: Request, _manager: Manager) -> Response:
    """Create a policy."""
    form = await read_form(request, PolicyForm)
    page = _policy_page(await read(request, hours_choices))
    if form.data is None:
        return form_page(request, page, values=form.values, errors=form.errors, status_code=422)
    values = _policy_values(form.data)
    values["is_default"] = checked(form.values, "is_default")
    now = now_of(request)
    try:
        name = await write(request, lambda s: policies.create_policy(s, values, now).name)
    except (ValidationFailed, Conflict) as error:
        errors = _policy_errors(error)
        return form_page(request, page, values=form.values, errors=errors, status_code=422)
    return done_redirect("/settings/inbox/sla-policies", "created", name)


async def _policy(request: Request, policy_id: str) -> PolicyRow:
    def work(session: Session) -> PolicyRow:
        return _row(policies.get_policy(session, policy_id), dict(hours_choices(session)))

    return await read(request, work)


@router.get("/settings/inbox/sla-policies/{policy_id}")
async def edit_policy_page(
    request: Request, _manager: Manager, policy_id: PolicyId
) -> HTMLResponse:
    """A policy's form, filled in."""
    policy = await _policy(request, policy_id)
    hours = await read(request, hours_choices)
    customer, customer_unit = in_unit(policy.customer_seconds)
    agent, agent_unit = in_unit(policy.agent_seconds)
    values = {
        "name": policy.name,
        "customer_sla": str(customer),
        "customer_sla_unit": customer_unit,
        "agent_sla": str(agent),
        "agent_sla_unit": agent_unit,
        "business_hours_id": policy.hours_id,
        "is_default": "on" if policy.is_default else "",
    }
    return form_page(request, _policy_page(hours, policy), values=values, errors={})


@router.post("/settings/inbox/sla-policies/{policy_id}")
async def save_policy(request: Request, _manager: Manager, policy_id: PolicyId) -> Response:
    """Save a policy's targets, hours, or make it the default."""
    form = await read_form(request, PolicyForm)
    policy = await _policy(request, policy_id)
    page = _policy_page(await read(request, hours_choices), policy)
    if form.data is None:
        return form_page(request, page, values=form.values, errors=form.errors, status_code=422)
    changes = _policy_values(form.data)
    changes["is_default"] = checked(form.values, "is_default")
    now = now_of(request)
    try:
        name = await write(
            request, lambda s: policies.update_policy(s, policy_id, changes, now).name
        )
    except (ValidationFailed, Conflict) as error:
        errors = _policy_errors(error)
        return form_page(request, page, values=form.values, errors=errors, status_code=422)
    return done_redirect("/settings/inbox/sla-policies", "saved", name)


@router.post("/settings/inbox/sla-policies/{policy_id}/delete")
async def delete_policy(request: Request, _manager: Manager, policy_id: PolicyId) -> Response:
    """Delete a policy no queue uses (the list says which queues do, otherwise)."""

    def work(session: Session) -> str:
        name = policies.get_policy(session, policy_id).name
        policies.delete_policy(session, policy_id)
        return name

    try:
        name = await write(request, work)
    except Conflict as refused:
        return await _list_page(request, None, error=refused.message, status_code=409)
    return done_redirect("/settings/inbox/sla-policies", "deleted", name)
