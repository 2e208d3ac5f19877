"""A mention's survey link: `POST /inbox/m/{id}/survey` makes the one-time NPS link of the
mention's case with the same service as `POST /v1/cases/{id}/survey` (`surveys.invite`), and
the page shows it once, with a copy button, for the agent to paste into a reply.

The section is offered when the mention belongs to a case and a live NPS form exists; the
form picker defaults to the inbox settings' NPS form when it is live, else the first live NPS
form. One link per form and case: a second press for the same form says the link was made
already (only its hash is kept, so it cannot be shown again) and offers a new link, which
replaces it (the earlier one stops working). Refusals are shown inside the section, never as
an error page. With htmx (`hx-target="#survey"`) the answer is the section alone, so a reply
being written in the composer is left as it is.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.auth.sessions import ActiveSession
from carebase.errors import AlreadyInvited, CarebaseError, NotFound, ValidationFailed
from carebase.inbox import mentions, surveys
from carebase.web.actions import now_of, read, sentence, settings_of, write
from carebase.web.forms import read_form
from carebase.web.pages.inbox_mention import mention_page
from carebase.web.pages.inbox_shared import parse_int, survey_offer
from carebase.web.render import is_htmx, render
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

MentionId = Annotated[str, Path(min_length=1, max_length=40)]
NO_CASE = (
    "This mention has no case yet: a case opens when the first public reply is sent. "
    "Make the survey link after that."
)
ALREADY = (
    "This case has this survey's link already, and carebase keeps only a fingerprint of it, "
    "so it cannot be shown again. Make a new link to replace it: the earlier one stops working."
)
MADE = "Survey link made: it takes one answer and works for 30 days. Paste it into your reply."
RENEWED = "New survey link made: the earlier one no longer works."


class SurveyLinkForm(BaseModel):
    """The form to invite the case to, and whether to replace the link made already."""

    form_id: str = Field(default="", max_length=20)
    renew: str = Field(default="", max_length=1)


def _make_link(
    session: Session, mention_id: str, form_id: int, renew: bool, request: Request
) -> str:
    """The case's new one-time link (the service's refusals raised as they are)."""
    mention = mentions.get_mention(session, mention_id)
    if mention.case_id is None:
        raise ValidationFailed(NO_CASE)
    try:
        _, url = surveys.invite(
            session,
            form_id,
            mention.case_id,
            now_of(request),
            base_url=settings_of(request).base_url,
            renew=renew,
        )
    except NotFound:
        # The mention exists (looked up above): the unknown thing is the chosen form.
        raise ValidationFailed.on("form_id", "is not a form: choose one from the list") from None
    return url


def _words(error: CarebaseError) -> str:
    """A refusal in the agent's words."""
    if isinstance(error, AlreadyInvited):
        return ALREADY
    if isinstance(error, ValidationFailed) and isinstance(error.details, list) and error.details:
        first = error.details[0]
        if isinstance(first, dict) and first.get("field") == "form_id":
            return sentence(f"The form {first.get('reason', 'is not valid')}")
    return sentence(error.message)


@router.post("/inbox/m/{mention_id}/survey")
async def survey_link(mention_id: MentionId, request: Request, active: SignedIn) -> Response:
    """Make the mention's case a one-time survey link and show it (or say why not)."""
    form = await read_form(request, SurveyLinkForm)
    data = form.data or SurveyLinkForm()
    renew = data.renew == "1"
    status_code, link, error, chosen = 200, None, None, None
    try:
        chosen = parse_int("form_id", data.form_id)
        if chosen is None:
            raise ValidationFailed.on("form_id", "is required: choose a form")
        picked = chosen
        link = await write(request, lambda s: _make_link(s, mention_id, picked, renew, request))
    except NotFound:
        raise
    except CarebaseError as refused:
        status_code, error = refused.status_code, refused
    offer = await read(request, lambda s: survey_offer(s, mentions.get_mention(s, mention_id)))
    if chosen is not None:
        offer["chosen"] = chosen
    offer["link"] = link
    if link is not None:
        offer["said"] = RENEWED if renew else MADE
    if error is not None:
        offer["error"] = _words(error)
        offer["renewable"] = isinstance(error, AlreadyInvited)
    return await _answer(request, mention_id, active, offer, status_code)


async def _answer(
    request: Request,
    mention_id: str,
    active: ActiveSession,
    offer: dict[str, Any],
    status_code: int,
) -> Response:
    """The Survey section alone (htmx), else the whole mention page with it."""
    if is_htmx(request) and request.headers.get("hx-target") == "survey":
        context = {"mention": {"id": mention_id}, "survey": offer}
        return render(request, "inbox/_survey.html", context, status_code=status_code)
    return await mention_page(request, mention_id, active, survey=offer, status_code=status_code)
