"""One mention: `/inbox/m/{id}` shows the conversation (the customer's messages and the
responses, private notes marked), the customer's profile beside it (S7's compact view), the
SLA clocks and the actions: claim or unassign, assign to a person or a group, change state
(only the states the workflow allows from here are offered), follow-up, classify and
unclassify, the reply composer with its template picker, and the survey link (inbox_survey).

Each action is a plain form post answered by a redirect back (`?done=`), or for htmx the
page's main column again with a toast. A change the workflow refuses is shown inline,
beside the control, with the reason (409); bad input is a 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.auth.sessions import ActiveSession
from carebase.embeds import lookup
from carebase.errors import CarebaseError, NotFound, ValidationFailed
from carebase.inbox import console_repository as queries
from carebase.inbox import mentions
from carebase.inbox import templates as message_templates
from carebase.inbox.workflow import STATES, Actor, refusal
from carebase.models import Mention
from carebase.web.actions import Toast, now_of, read, sentence, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox import HELPERS
from carebase.web.pages.inbox_bulk import assignee_choice
from carebase.web.pages.inbox_shared import parse_choice, parse_int, survey_offer
from carebase.web.pages.inbox_timers import timers_of
from carebase.web.render import is_htmx, render
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

MentionId = Annotated[str, Path(min_length=1, max_length=40)]
Done = Annotated[str | None, Query(max_length=20)]
TemplateParam = Annotated[str | None, Query(max_length=40)]

# What each action says once done (`?done=` after a plain post).
DONE: dict[str, str] = {
    "claimed": "Claimed: it is yours now.",
    "unassigned": "Unassigned: it is back in New.",
    "assigned": "Assigned.",
    "state": "State changed.",
    "flagged": "Flagged for follow-up.",
    "unflagged": "Follow-up flag removed.",
    "classified": "Classification added.",
    "unclassified": "Classification removed.",
    "saved": "Draft saved.",
    "submitted": "Reply submitted.",
    "noted": "Private note saved.",
    "discarded": "Draft discarded.",
    "approved": "Reply approved: it is being sent.",
    "rejected": "Reply rejected: the agent sees your comment.",
}


def mention_context(
    session: Session, mention_id: str, user_id: int, now: datetime
) -> dict[str, Any]:
    """Everything the mention's page shows."""
    mention = mentions.get_mention(session, mention_id)
    on = queries.mention_classifications(session, mention.id)
    on_ids = {c.id for c in on}
    profile = lookup.condense(session, mention.profile_id, now=now) if mention.profile_id else None
    assignee = queries.users_named(session, {mention.assignee_id} if mention.assignee_id else set())
    return {
        **HELPERS,
        "mention": mention,
        "queue_name": queries.queue_name(session, mention.queue_id),
        "conversation": queries.conversation(session, mention),
        "timers": timers_of(mention, now),
        "classifications": on,
        "offered": [c for c in queries.classifications(session) if c.id not in on_ids],
        "allowed_states": [s for s in STATES if refusal(mention.state, s, "user") is None],
        "agents": queries.agents(session),
        "groups": queries.groups(session),
        "assignee": assignee.get(mention.assignee_id or 0),
        "drafts": queries.drafts_of(session, mention.id, user_id),
        "pending": queries.pending_of(session, mention.id),
        "templates": message_templates.list_templates(session, user_id=user_id),
        "profile": profile,
        "viewer_embed": None,
        "keys": lookup.LookupKeys(),
        "note_error": None,
        "mine": mention.assignee_id == user_id,
        "survey": survey_offer(session, mention),
    }


async def mention_page(
    request: Request,
    mention_id: str,
    active: ActiveSession,
    *,
    toast: str | None = None,
    refused: tuple[str, str] | None = None,
    composer: dict[str, Any] | None = None,
    survey: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page (or, for htmx, its main column) with a toast or an inline refusal."""
    now, user_id = now_of(request), active.user.id
    context = await read(request, lambda s: mention_context(s, mention_id, user_id, now))
    context["toast"] = Toast(toast) if toast else None
    context["refused"] = {refused[0]: refused[1]} if refused else {}
    context["composer"] = composer or _composer_from(context)
    context["can_review"] = active.user.is_manager
    context["survey"] = survey or context["survey"]
    template = "inbox/_mention.html" if _wants_main(request) else "inbox/mention.html"
    return render(request, template, context, status_code=status_code)


def _wants_main(request: Request) -> bool:
    return is_htmx(request) and request.headers.get("hx-target") == "mention"


def _composer_from(context: dict[str, Any]) -> dict[str, Any]:
    """The composer: the viewer's latest draft, else empty."""
    drafts = context["drafts"]
    if drafts:
        draft = drafts[0]
        return {"body": draft.body, "response_id": draft.id, "private": draft.private}
    return {"body": "", "response_id": "", "private": False}


@router.get("/inbox/m/{mention_id}")
async def mention_view(
    mention_id: MentionId,
    request: Request,
    active: SignedIn,
    done: Done = None,
    template_id: TemplateParam = None,
) -> HTMLResponse:
    """The conversation, the profile beside it, and what can be done."""
    composer: dict[str, Any] | None = None
    if template_id:
        composer = await _from_template(request, mention_id, template_id)
    return await mention_page(
        request, mention_id, active, toast=DONE.get(done or ""), composer=composer
    )


async def _from_template(request: Request, mention_id: str, template_id: str) -> dict[str, Any]:
    """The composer filled with a template rendered for the mention's customer."""
    now = now_of(request)

    def work(session: Session) -> str:
        mention = mentions.get_mention(session, mention_id)
        return message_templates.render_template(session, template_id, mention.profile_id, now=now)

    body = await read(request, work)
    return {"body": body, "response_id": "", "private": False, "template_id": template_id}


@router.get("/inbox/m/{mention_id}/composer")
async def composer_fragment(
    mention_id: MentionId, request: Request, active: SignedIn, template_id: TemplateParam = None
) -> Response:
    """The composer alone, filled from the chosen template (the picker's htmx answer)."""
    if not is_htmx(request):
        query = f"?{urlencode({'template_id': template_id})}" if template_id else ""
        target = f"/inbox/m/{quote(mention_id)}{query}"
        return RedirectResponse(target, status_code=303)
    composer = {"body": "", "response_id": "", "private": False}
    if template_id:
        composer = await _from_template(request, mention_id, template_id)
    user_id = active.user.id
    templates = await read(request, lambda s: message_templates.list_templates(s, user_id=user_id))
    context = {
        "mention": {"id": mention_id},
        "composer": composer,
        "templates": templates,
        "refused": {},
    }
    return render(request, "inbox/_composer.html", context)


# --- actions ------------------------------------------------------------------------------

Change = Callable[[Session, Mention, datetime], object]


async def act(
    request: Request,
    mention_id: str,
    active: ActiveSession,
    change: Change,
    *,
    done: str,
    where: str,
) -> Response:
    """Lock the mention, make the change as the signed-in user, and answer: a redirect back
    (htmx: the main column and a toast), or the page with the refusal beside `where`."""
    now = now_of(request)

    def work(session: Session) -> None:
        change(session, mentions.lock_mention(session, mention_id), now)

    try:
        await write(request, work)
    except NotFound:
        raise
    except CarebaseError as refused:
        return await mention_page(
            request,
            mention_id,
            active,
            refused=(where, _reason(refused)),
            status_code=refused.status_code,
        )
    if is_htmx(request):
        return await mention_page(request, mention_id, active, toast=DONE[done])
    return RedirectResponse(f"/inbox/m/{mention_id}?done={done}", status_code=303)


def _reason(error: CarebaseError) -> str:
    """A service's refusal in words (a 422's first field problem, else its message)."""
    if isinstance(error, ValidationFailed) and isinstance(error.details, list) and error.details:
        first = error.details[0]
        if isinstance(first, dict) and first.get("reason"):
            return sentence(str(first["reason"]))
    return sentence(error.message)


class StateForm(BaseModel):
    """The target state (and the version the page showed, to refuse a stale change)."""

    state: str = Field(default="", max_length=30)
    version: str = Field(default="", max_length=12)


class AssignForm(BaseModel):
    """`user:<id>` or `group:<id>`."""

    assign_to: str = Field(default="", max_length=40)


class FlagForm(BaseModel):
    """Follow-up on (1) or off (0)."""

    flag: str = Field(default="1", pattern="^[01]$")


class ClassifyForm(BaseModel):
    """The classification to add or remove."""

    classification_id: str = Field(default="", max_length=20)


async def _invalid(
    request: Request, mention_id: str, active: ActiveSession, where: str, message: str
) -> Response:
    return await mention_page(
        request, mention_id, active, refused=(where, sentence(message)), status_code=422
    )


@router.post("/inbox/m/{mention_id}/claim")
async def claim(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Claim the mention (and its group) for the signed-in user."""
    user_id = active.user.id
    return await act(
        request,
        mention_id,
        active,
        lambda s, m, now: mentions.claim(s, m, user_id, now),
        done="claimed",
        where="assign",
    )


@router.post("/inbox/m/{mention_id}/unassign")
async def unassign(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Give the mention back to New."""
    actor = Actor.user(active.user.id)
    return await act(
        request,
        mention_id,
        active,
        lambda s, m, now: mentions.unassign(s, m, actor, now),
        done="unassigned",
        where="assign",
    )


@router.post("/inbox/m/{mention_id}/assign")
async def assign(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Assign the mention to a person, or to a group (by capacity)."""
    form = await read_form(request, AssignForm)
    try:
        to_user, to_group = assignee_choice(form.data.assign_to if form.data else "")
    except ValidationFailed as invalid:
        return await _invalid(request, mention_id, active, "assign", _reason(invalid))
    actor = Actor.user(active.user.id)
    return await act(
        request,
        mention_id,
        active,
        lambda s, m, now: mentions.assign(s, m, actor, now, user_id=to_user, group_id=to_group),
        done="assigned",
        where="assign",
    )


@router.post("/inbox/m/{mention_id}/state")
async def change_state(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Move the mention to another state (the workflow's refusal shown beside the control)."""
    form = await read_form(request, StateForm)
    try:
        data = form.data or StateForm()
        target = parse_choice("state", data.state, STATES)
        version = parse_int("version", data.version)
        if target is None:
            raise ValidationFailed.on("state", "choose a state")
    except ValidationFailed as invalid:
        return await _invalid(request, mention_id, active, "state", _reason(invalid))
    actor = Actor.user(active.user.id)
    return await act(
        request,
        mention_id,
        active,
        lambda s, m, now: mentions.set_state(s, m, target, actor, now, expected_version=version),
        done="state",
        where="state",
    )


@router.post("/inbox/m/{mention_id}/follow-up")
async def follow_up(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Flag the mention for follow-up, or clear the flag."""
    form = await read_form(request, FlagForm)
    if form.data is None:
        return await _invalid(request, mention_id, active, "follow_up", "Choose on or off.")
    flag = form.data.flag == "1"
    actor = Actor.user(active.user.id)
    return await act(
        request,
        mention_id,
        active,
        lambda s, m, now: mentions.set_follow_up(s, m, flag, actor, now),
        done="flagged" if flag else "unflagged",
        where="follow_up",
    )


async def _classification(
    request: Request, mention_id: str, active: ActiveSession
) -> int | Response:
    form = await read_form(request, ClassifyForm)
    try:
        chosen = parse_int("classification_id", form.data.classification_id if form.data else "")
        if chosen is None:
            raise ValidationFailed.on("classification_id", "choose a classification")
    except ValidationFailed as invalid:
        return await _invalid(request, mention_id, active, "classify", _reason(invalid))
    return chosen


@router.post("/inbox/m/{mention_id}/classify")
async def classify(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Put a classification on the mention (archived ones are refused)."""
    chosen = await _classification(request, mention_id, active)
    if isinstance(chosen, Response):
        return chosen
    actor = Actor.user(active.user.id)
    return await act(
        request,
        mention_id,
        active,
        lambda s, m, now: mentions.classify(s, m, chosen, actor, now),
        done="classified",
        where="classify",
    )


@router.post("/inbox/m/{mention_id}/unclassify")
async def unclassify(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Take a classification off the mention."""
    chosen = await _classification(request, mention_id, active)
    if isinstance(chosen, Response):
        return chosen
    actor = Actor.user(active.user.id)
    return await act(
        request,
        mention_id,
        active,
        lambda s, m, now: mentions.unclassify(s, m, chosen, actor, now),
        done="unclassified",
        where="classify",
    )
