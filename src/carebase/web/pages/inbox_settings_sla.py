"""Settings > Inbox > SLA policies and Workflow (managers only): the targets mentions are
measured against (customer and agent SLA in minutes or hours, in calendar time or business
hours, one the default), and the installation-wide settings (how long a case stays open
after its last activity, when an idle agent goes offline, the webhook destination replies
to API mentions are delivered to, the NPS form closed cases invite to). Business hours have
their own module (`inbox_settings_hours`). The services are `inbox.policies` and
`inbox.settings`.
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
from carebase.inbox import settings as inbox_settings
from carebase.models.inbox import SlaPolicy
from carebase.web.actions import Toast, now_of, read, settings_of, write
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
    form_choices,
    hours_choices,
    webhook_choices,
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


# Workflow settings.


class WorkflowForm(BaseModel):
    """The installation-wide inbox settings, in the units people use."""

    case_timeout: int = Field(ge=1, le=600_000)
    case_timeout_unit: Literal["minutes", "hours", "days"] = "hours"
    idle_offline: int = Field(ge=1, le=600_000)
    idle_offline_unit: Unit = "minutes"
    reply_destination_id: str = Field(default="", max_length=40)
    nps_form_id: str = Field(default="", pattern=r"^\d{0,18}$")


_WORKFLOW_INPUTS = frozenset(
    {"case_timeout", "idle_offline", "reply_destination_id", "nps_form_id"}
)
_WORKFLOW_RENAMES = {
    "case_timeout_seconds": "case_timeout",
    "idle_offline_seconds": "idle_offline",
}
_RANGES = {
    "case_timeout": "Enter at least 1 minute and at most 90 days.",
    "idle_offline": "Enter at least 1 minute and at most 7 days.",
}


def _workflow_page(destinations: Choices, nps_forms: Choices) -> FormPage:
    return FormPage(
        title="Workflow",
        action="/settings/inbox/workflow",
        inputs=[
            Input(
                "case_timeout",
                "Case inactivity timeout",
                kind="number",
                hint=(
                    "A case closes this long after its last activity, once every "
                    "mention in it is closed."
                ),
            ),
            Input(
                "case_timeout_unit",
                "Case timeout unit",
                kind="select",
                options=[*UNIT_CHOICES, ("days", "days")],
            ),
            Input(
                "idle_offline",
                "Idle timeout",
                kind="number",
                hint=(
                    "An agent idle this long goes offline; their unstarted mentions go back to New."
                ),
            ),
            Input("idle_offline_unit", "Idle timeout unit", kind="select", options=UNIT_CHOICES),
            Input(
                "reply_destination_id",
                "Reply webhook",
                kind="select",
                options=[("", "None (API replies are not delivered)"), *destinations],
                hint="Replies to mentions sent through the API go to this webhook destination "
                "(Activation, then Destinations).",
            ),
            Input(
                "nps_form_id",
                "NPS form",
                kind="select",
                options=[("", "None (no surveys)"), *nps_forms],
                hint="The survey a case's one-time link invites the customer to.",
            ),
        ],
        back=("Inbox settings", "/settings/inbox"),
        intro="How cases close, when idle agents go offline, and where replies and surveys go.",
    )


def _three_units(seconds: int) -> tuple[int, str]:
    if seconds % 86400 == 0:
        return seconds // 86400, "days"
    return in_unit(seconds)


async def _workflow_choices(request: Request) -> tuple[Choices, Choices]:
    settings = settings_of(request)
    return await read(request, lambda s: (webhook_choices(s, settings), form_choices(s)))


@router.get("/settings/inbox/workflow")
async def workflow_page(request: Request, _manager: Manager, done: Done = None) -> HTMLResponse:
    """The installation-wide inbox settings."""
    now = now_of(request)

    def work(session: Session) -> dict[str, str]:
        row = inbox_settings.get_settings(session, now)
        case, case_unit = _three_units(row.case_timeout_seconds)
        idle, idle_unit = in_unit(row.idle_offline_seconds)
        return {
            "case_timeout": str(case),
            "case_timeout_unit": case_unit,
            "idle_offline": str(idle),
            "idle_offline_unit": idle_unit,
            "reply_destination_id": row.reply_destination_id or "",
            "nps_form_id": str(row.nps_form_id or ""),
        }

    values = await write(request, work)  # the row is created on first use
    destinations, nps_forms = await _workflow_choices(request)
    page = _workflow_page(destinations, nps_forms)
    toast = Toast("Saved the workflow settings.") if done == "saved" else None
    return form_page(request, page, values=values, errors={}, toast=toast)


@router.post("/settings/inbox/workflow")
async def save_workflow(request: Request, _manager: Manager) -> Response:
    """Save the workflow settings."""
    form = await read_form(request, WorkflowForm)
    destinations, nps_forms = await _workflow_choices(request)
    page = _workflow_page(destinations, nps_forms)
    if form.data is None:
        return form_page(request, page, values=form.values, errors=form.errors, status_code=422)
    data, now = form.data, now_of(request)
    changes: dict[str, Any] = {
        "case_timeout_seconds": data.case_timeout * UNITS[data.case_timeout_unit],
        "idle_offline_seconds": data.idle_offline * UNITS[data.idle_offline_unit],
        "reply_destination_id": data.reply_destination_id or None,
        "nps_form_id": int(data.nps_form_id) if data.nps_form_id else None,
    }
    try:
        await write(request, lambda s: inbox_settings.update_settings(s, changes, now).id)
    except ValidationFailed as error:
        errors = problems(error, _WORKFLOW_INPUTS, renames=_WORKFLOW_RENAMES)
        for name, words in _RANGES.items():
            if "seconds" in errors.get(name, ""):
                errors[name] = words
        return form_page(request, page, values=form.values, errors=errors, status_code=422)
    return done_redirect("/settings/inbox/workflow", "saved", "")
