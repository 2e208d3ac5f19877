"""Settings > Inbox > Workflow (managers only): the installation-wide inbox settings, in
the units people use: how long a case stays open after its last activity, when an idle
agent goes offline, the webhook destination replies to API mentions are delivered to, and
the NPS form closed cases invite to. The service is `inbox.settings`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import ValidationFailed
from carebase.inbox import settings as inbox_settings
from carebase.web.actions import Toast, now_of, read, settings_of, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox_settings_frame import (
    FormPage,
    Input,
    done_redirect,
    form_page,
    problems,
)
from carebase.web.pages.inbox_settings_lookups import Choices, form_choices, webhook_choices
from carebase.web.pages.inbox_settings_sla import UNIT_CHOICES, UNITS, Unit, in_unit
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

Done = Annotated[str | None, Query(max_length=20)]


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
