"""The replies API: drafting, submitting, approving and rejecting replies to mentions, and
reply templates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from carebase.auth.scopes import INBOX_READ, INBOX_WRITE
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.inbox import replies, templates
from carebase.inbox.replies_schemas import (
    Acting,
    DraftEdit,
    DraftIn,
    Rejection,
    RenderIn,
    RenderOut,
    ResponseOut,
    ResponsePage,
    Status,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
)
from carebase.kit.pagination import Cursor

router = APIRouter(tags=["inbox"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(INBOX_READ))]
Writer = Annotated[Principal, Depends(require_scope(INBOX_WRITE))]
UserQuery = Annotated[int, Query(ge=1, le=2**63 - 1, description="The user acting.")]
_AUTHOR: dict[int | str, dict[str, Any]] = {
    403: {"description": "`user_id` is not the reply's author (`not_author`)."},
    409: {"description": "The reply's status does not allow this (`transition_refused`)."},
}
_NAMED: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another template has that name (`name_taken`)."}
}
_REVIEW: dict[int | str, dict[str, Any]] = {
    403: {"description": "`user_id` is not a manager, or wrote the reply (`not_reviewer`)."},
    409: {"description": "The reply is not awaiting approval (`transition_refused`)."},
}


@router.post(
    "/v1/mentions/{mention_id}/responses",
    status_code=201,
    operation_id="draftResponse",
    response_model=ResponseOut,
)
def create_draft(
    mention_id: str, draft: DraftIn, _writer: Writer, session: DbSession, now: Now
) -> ResponseOut:
    """Draft a reply (or a private note) to a mention as `user_id`; the mention moves to in
    progress."""
    row = replies.draft(
        session,
        mention_id,
        draft.user_id,
        draft.body,
        now,
        private=draft.private,
        template_id=draft.template_id,
        origin="api",
    )
    return ResponseOut.of(row)


@router.get("/v1/responses", operation_id="listResponses", response_model=ResponsePage)
def list_responses(
    _reader: Reader,
    session: DbSession,
    status: Status | None = None,
    mention_id: Annotated[str | None, Query(max_length=40)] = None,
    author_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ResponsePage:
    """Responses, oldest first: `status=awaiting_approval` is the approval queue."""
    rows, following = replies.list_responses(
        session,
        status=status,
        mention_id=mention_id,
        author_id=author_id,
        cursor=cursor,
        limit=limit,
    )
    return ResponsePage(items=[ResponseOut.of(row) for row in rows], next_cursor=following)


@router.get("/v1/responses/{response_id}", operation_id="getResponse", response_model=ResponseOut)
def get_response(response_id: str, _reader: Reader, session: DbSession) -> ResponseOut:
    """One response."""
    return ResponseOut.of(replies.get_response(session, response_id))


@router.patch(
    "/v1/responses/{response_id}",
    operation_id="editResponse",
    response_model=ResponseOut,
    responses=_AUTHOR,
)
def edit_draft(
    response_id: str, edit: DraftEdit, _writer: Writer, session: DbSession, now: Now
) -> ResponseOut:
    """Change a draft's text (a rejected or failed reply becomes a draft again)."""
    return ResponseOut.of(replies.update_draft(session, response_id, edit.user_id, edit.body, now))


@router.post(
    "/v1/responses/{response_id}/submit",
    operation_id="submitResponse",
    response_model=ResponseOut,
    responses=_AUTHOR,
)
def submit(
    response_id: str, acting: Acting, _writer: Writer, session: DbSession, now: Now
) -> ResponseOut:
    """Send a draft: a private note is saved at once; a reply waits for approval where the
    author's group requires it, else is queued for sending."""
    return ResponseOut.of(replies.submit(session, response_id, acting.user_id, now))


@router.post(
    "/v1/responses/{response_id}/approve",
    operation_id="approveResponse",
    response_model=ResponseOut,
    responses=_REVIEW,
)
def approve(
    response_id: str, acting: Acting, _writer: Writer, session: DbSession, now: Now
) -> ResponseOut:
    """Approve a reply awaiting approval (a manager other than its author): it is sent."""
    return ResponseOut.of(replies.approve(session, response_id, acting.user_id, now))


@router.post(
    "/v1/responses/{response_id}/reject",
    operation_id="rejectResponse",
    response_model=ResponseOut,
    responses=_REVIEW,
)
def reject(
    response_id: str, rejection: Rejection, _writer: Writer, session: DbSession, now: Now
) -> ResponseOut:
    """Send a reply back to its author with a comment (a manager other than its author)."""
    row = replies.reject(session, response_id, rejection.user_id, rejection.comment, now)
    return ResponseOut.of(row)


@router.delete(
    "/v1/responses/{response_id}",
    status_code=204,
    operation_id="discardResponse",
    responses=_AUTHOR,
)
def discard(
    response_id: str, user_id: UserQuery, _writer: Writer, session: DbSession, now: Now
) -> Response:
    """Discard a draft (or a rejected or failed reply); its author only."""
    replies.discard(session, response_id, user_id, now)
    return Response(status_code=204)


@router.get("/v1/templates", operation_id="listTemplates", response_model=list[TemplateOut])
def list_templates(
    _reader: Reader,
    session: DbSession,
    user_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Only those this user's groups see.")
    ] = None,
    archived: bool = False,
) -> list[TemplateOut]:
    """Reply templates by name."""
    rows = templates.list_templates(session, user_id=user_id, archived=archived)
    return [TemplateOut.of(row) for row in rows]


@router.post(
    "/v1/templates",
    status_code=201,
    operation_id="createTemplate",
    response_model=TemplateOut,
    responses=_NAMED,
)
def create_template(
    template: TemplateIn, _writer: Writer, session: DbSession, now: Now
) -> TemplateOut:
    """A new reply template; its body must be a valid template (422 naming `body`)."""
    row = templates.create_template(
        session, name=template.name, body=template.body, group_ids=template.group_ids, now=now
    )
    return TemplateOut.of(row)


@router.get("/v1/templates/{template_id}", operation_id="getTemplate", response_model=TemplateOut)
def get_template(template_id: str, _reader: Reader, session: DbSession) -> TemplateOut:
    """One template."""
    return TemplateOut.of(templates.get_template(session, template_id))


@router.patch(
    "/v1/templates/{template_id}",
    operation_id="updateTemplate",
    response_model=TemplateOut,
    responses=_NAMED,
)
def update_template(
    template_id: str, patch: TemplatePatch, _writer: Writer, session: DbSession, now: Now
) -> TemplateOut:
    """Change a template (archive it with `archived: true`)."""
    row = templates.update_template(
        session,
        template_id,
        now=now,
        name=patch.name,
        body=patch.body,
        group_ids=patch.group_ids,
        archived=patch.archived,
    )
    return TemplateOut.of(row)


@router.delete("/v1/templates/{template_id}", status_code=204, operation_id="deleteTemplate")
def delete_template(template_id: str, _writer: Writer, session: DbSession) -> Response:
    """Delete a template; replies written from it keep their text."""
    templates.delete_template(session, template_id)
    return Response(status_code=204)


@router.post(
    "/v1/templates/{template_id}/render", operation_id="renderTemplate", response_model=RenderOut
)
def render(
    template_id: str, target: RenderIn, _reader: Reader, session: DbSession, now: Now
) -> RenderOut:
    """The template filled in with a profile's values (missing ones empty)."""
    body = templates.render_template(session, template_id, target.profile_id, now=now)
    return RenderOut(body=body)
