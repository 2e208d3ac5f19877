"""Request and response shapes of the replies and templates API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from carebase.models import MessageTemplate, Response

UserId = Field(ge=1, le=2**63 - 1, description="The user acting: an active user's id.")
GroupId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Status = Literal["draft", "awaiting_approval", "sending", "sent", "failed", "rejected"]


class DraftIn(BaseModel):
    """A new draft reply (or private note) to a mention."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = UserId
    body: str = Field(min_length=1, max_length=10_000, description="Plain text.")
    private: bool = Field(False, description="A private note: never sent to the customer.")
    template_id: str | None = Field(None, max_length=40, description="The template used.")


class DraftEdit(BaseModel):
    """A draft's new text."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = UserId
    body: str = Field(min_length=1, max_length=10_000)


class Acting(BaseModel):
    """Who submits or approves."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = UserId


class Rejection(BaseModel):
    """A reviewer sending a reply back, and why."""

    model_config = ConfigDict(extra="forbid")

    user_id: int = UserId
    comment: str = Field(min_length=1, max_length=2_000, description="Shown to the author.")


class ResponseOut(BaseModel):
    """A reply or private note to a mention."""

    id: str
    mention_id: str
    case_id: str | None
    author_id: int | None
    agent_name: str | None
    body: str
    private: bool
    status: Status
    origin: str
    external_id: str | None
    template_id: str | None
    submitted_at: datetime | None
    reviewed_by: int | None
    reviewed_at: datetime | None
    review_comment: str | None
    sent_at: datetime | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Response) -> ResponseOut:
        """The API shape of a response row."""
        return cls(
            id=row.id,
            mention_id=row.mention_id,
            case_id=row.case_id,
            author_id=row.author_id,
            agent_name=row.agent_name,
            body=row.body,
            private=row.private,
            status=row.status,
            origin=row.origin,
            external_id=row.external_id,
            template_id=row.template_id,
            submitted_at=row.submitted_at,
            reviewed_by=row.reviewed_by,
            reviewed_at=row.reviewed_at,
            review_comment=row.review_comment,
            sent_at=row.sent_at,
            error=row.error,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class ResponsePage(BaseModel):
    """A page of responses, oldest first."""

    items: list[ResponseOut]
    next_cursor: str | None


class TemplateIn(BaseModel):
    """A new reply template."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    body: str = Field(
        min_length=1, max_length=10_000, description="Jinja2: `{{ profile.first_name }}`."
    )
    group_ids: list[GroupId] = Field(
        default_factory=list, max_length=200, description="Groups that see it; empty: everyone."
    )


class TemplatePatch(BaseModel):
    """Changes to a template; fields left out stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=10_000)
    group_ids: list[GroupId] | None = Field(None, max_length=200)
    archived: bool | None = None


class TemplateOut(BaseModel):
    """A reply template."""

    id: str
    name: str
    body: str
    group_ids: list[int]
    archived: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: MessageTemplate) -> TemplateOut:
        """The API shape of a template row."""
        return cls(
            id=row.id,
            name=row.name,
            body=row.body,
            group_ids=list(row.group_ids),
            archived=row.archived_at is not None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class RenderIn(BaseModel):
    """The customer a template is filled in for."""

    model_config = ConfigDict(extra="forbid")

    profile_id: str | None = Field(None, max_length=40)


class RenderOut(BaseModel):
    """A template filled in."""

    body: str
