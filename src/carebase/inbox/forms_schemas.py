"""Request and response bodies of the forms and surveys APIs.

`ActivityForm` is the Activity API's shape, key for key (`GET /v1/forms`); the other shapes
add what managing forms and reading answers needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from carebase.users.schemas import EntityId

GroupIds = Annotated[
    list[EntityId],
    Field(max_length=200, description="Ids of the (active) groups that use the form."),
]


class ActivityForm(BaseModel):
    """A form as the Activity API lists it."""

    id: int = Field(description="Form id.", examples=[55])
    name: str = Field(examples=["NPS Survey"])
    title: str = Field(description="What the customer sees.", examples=["Lexer NPS Survey"])
    archived: bool = Field(description="Archived forms take no answers.", examples=[False])
    created_at: str = Field(
        description="When it was created, `YYYY-MM-DDTHH:MM:SSZ` (UTC).",
        examples=["2018-05-26T21:54:19Z"],
    )
    groups: list[int] = Field(description="Ids of the groups that use the form.", examples=[[123]])
    nps: bool = Field(description="Whether the form is an NPS survey.", examples=[True])
    form_url: str = Field(
        description="`{CAREBASE_PUBLIC_URL}/forms/{public_key}`: anyone with it can answer.",
        examples=["https://care.example.com/forms/Zt3q2-7wEAAAAAAAAAAAAAAAAAAAAAAA"],
    )


class FormOut(ActivityForm):
    """A form as a manager sees it."""

    comment_prompt: str = Field(description="The question beside the comment box; may be empty.")
    updated_at: datetime


class FormCreate(BaseModel):
    """A form to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["NPS Survey"])
    title: str = Field(min_length=1, max_length=300, examples=["How did we do?"])
    nps: bool = Field(default=True, description="An NPS survey (0-10, likely to recommend).")
    groups: GroupIds = Field(default_factory=list)
    comment_prompt: str = Field(
        default="", max_length=1000, examples=["What is the main reason for your score?"]
    )


def _left_out_not_null(schema: JsonDict) -> None:
    """A PATCH body's fields may be left out but not null: no `null` default either."""
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for prop in properties.values():
            if isinstance(prop, dict):
                prop.pop("default", None)


class FormUpdate(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_left_out_not_null)

    # A field left out stays as it is; null is refused (422), so the document shows none.
    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    title: Annotated[str, Field(min_length=1, max_length=300)] | SkipJsonSchema[None] = None
    nps: bool | SkipJsonSchema[None] = None
    groups: GroupIds | SkipJsonSchema[None] = None
    comment_prompt: Annotated[str, Field(max_length=1000)] | SkipJsonSchema[None] = None


class SurveyRequest(BaseModel):
    """Send a case's customer a survey: make its one-time link."""

    model_config = ConfigDict(extra="forbid")

    user_id: EntityId = Field(description="The user sending it: an active user's id.")
    form_id: EntityId | None = Field(
        default=None, description="The form; left out, the inbox settings' `nps_form_id`."
    )
    renew: bool = Field(
        default=False,
        description="When the case has this survey's link already (and it is unanswered): "
        "make a new link for it; the earlier link stops working.",
    )


class SurveyLinkOut(BaseModel):
    """A case's one-time survey link: shown this once, stored only hashed."""

    invitation_id: str
    form_id: int
    case_id: str
    agent_id: int | None = Field(description="The case's last agent: who the survey is about.")
    groups: list[int] = Field(description="That agent's groups when the link was made.")
    url: str = Field(
        description="`{CAREBASE_PUBLIC_URL}/f/{token}`; takes one answer.",
        examples=["https://care.example.com/f/3q2-7wEAAAAAAAAA…"],
    )
    sent_at: datetime
    expires_at: datetime


class FormResponseOut(BaseModel):
    """One answer to a form."""

    id: str
    form_id: int
    invitation_id: str | None = Field(description="Null for an answer through the form_url.")
    case_id: str | None
    profile_id: str | None = Field(description="Null when unknown or forgotten.")
    agent_id: int | None
    groups: list[int]
    score: int | None = Field(description="0-10.")
    nps_category: Literal["promoter", "passive", "detractor"] | None
    comment: str | None = Field(description="Null when none, or the profile was forgotten.")
    answered_at: datetime


class FormResponsePage(BaseModel):
    """A page of a form's answers, newest first."""

    items: list[FormResponseOut]
    next_cursor: str | None
