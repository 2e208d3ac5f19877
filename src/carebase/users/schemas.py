"""Request and response bodies of the users and groups APIs.

`ActivityUser` and `ActivityGroup` are the Activity API's shapes, key for key
(`GET /v1/users`, `GET /v1/groups`); the admin shapes add what managing needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

Role = Literal["agent", "manager"]
# Ids fit a signed 64-bit column on both engines; a larger one is refused as invalid.
EntityId = Annotated[int, Field(ge=1, le=2**63 - 1)]
GroupIds = Annotated[
    list[EntityId],
    Field(max_length=200, description="Ids of the (active) groups the user is in."),
]


class ActivityUser(BaseModel):
    """A user as the Activity API lists it."""

    id: int = Field(description="User id.", examples=[12345])
    email: str = Field(description="Email used to sign in.", examples=["jane@business.io"])
    first_name: str = Field(examples=["Jane"])
    last_name: str = Field(examples=["Remington"])
    timezone: str = Field(description="IANA time zone.", examples=["Australia/Sydney"])
    gmtoffset: int | float = Field(
        description="The time zone's offset from UTC now, in hours (10, 5.5, -3).",
        examples=[10],
    )
    sign_in_count: int = Field(description="Sign-ins so far.", examples=[76])
    last_sign_in_at: str | None = Field(
        description="Last sign-in, `YYYY-MM-DDTHH:MM:SSZ` (UTC); null before the first.",
        examples=["2018-03-21T06:09:01Z"],
    )
    archived: bool = Field(description="Archived users cannot sign in.", examples=[False])
    groups: list[int] = Field(
        description="Ids of the active groups the user is in.", examples=[[123, 456, 789]]
    )


class ActivityGroup(BaseModel):
    """A group as the Activity API lists it."""

    id: int = Field(examples=[123])
    name: str = Field(examples=["Social Customer Care"])
    comment: str = Field(
        description="What the group is; empty when none.",
        examples=["Social customer care team members"],
    )


class UserOut(BaseModel):
    """A user as a manager sees it."""

    id: int
    email: str
    first_name: str
    last_name: str
    timezone: str
    gmtoffset: int | float = Field(description="Hours from UTC now.")
    role: Role
    groups: list[int] = Field(description="Ids of the active groups the user is in.")
    has_password: bool = Field(description="False until the user sets one through a link.")
    sign_in_count: int
    last_sign_in_at: datetime | None
    archived: bool
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    created_by: str | None = Field(description="`cli`, or the id of the token that created it.")


class SignInLinkOut(BaseModel):
    """A one-time link to set a password: shown this once, never stored in the clear."""

    url: str = Field(
        description="`{CAREBASE_PUBLIC_URL}/set-password/{token}`; works once.",
        examples=["https://care.example.com/set-password/3q2-7wEAAAAAAAAA…"],
    )
    purpose: Literal["invite", "reset"] = Field(
        description="`invite` (valid 72 hours) until the user has a password, then `reset` "
        "(valid 1 hour)."
    )
    expires_at: datetime


class UserCreated(UserOut):
    """A new user, with the one-time link to set a first password (shown once)."""

    sign_in_link: SignInLinkOut


class UserCreate(BaseModel):
    """A user to create: an agent or a manager."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320, examples=["jane@business.io"])
    first_name: str = Field(min_length=1, max_length=100, examples=["Jane"])
    last_name: str = Field(default="", max_length=100, examples=["Remington"])
    timezone: str = Field(
        default="UTC", max_length=64, description="IANA time zone.", examples=["Australia/Sydney"]
    )
    role: Role = Field(
        description="`manager`: manages users, groups, tokens, connectors and datasets; "
        "`agent`: reads profiles and writes notes."
    )
    groups: GroupIds = Field(default_factory=list)


def _left_out_not_null(schema: JsonDict) -> None:
    """A PATCH body's fields may be left out but not null: no `null` default either."""
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for prop in properties.values():
            if isinstance(prop, dict):
                prop.pop("default", None)


class UserUpdate(BaseModel):
    """Fields to change; those left out stay as they are. `groups` replaces the user's
    memberships of active groups."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_left_out_not_null)

    # A field left out stays as it is; null is refused (422), so the document shows none.
    email: Annotated[str, Field(min_length=3, max_length=320)] | SkipJsonSchema[None] = None
    first_name: Annotated[str, Field(min_length=1, max_length=100)] | SkipJsonSchema[None] = None
    last_name: Annotated[str, Field(max_length=100)] | SkipJsonSchema[None] = None
    timezone: Annotated[str, Field(max_length=64)] | SkipJsonSchema[None] = None
    role: Role | SkipJsonSchema[None] = None
    groups: GroupIds | SkipJsonSchema[None] = None


class SessionsRevoked(BaseModel):
    """Sessions ended by "sign out everywhere"."""

    revoked: int = Field(description="How many sessions were open.")


class GroupOut(BaseModel):
    """A group as a manager sees it."""

    id: int
    name: str
    comment: str
    archived: bool
    archived_at: datetime | None
    members: list[int] = Field(description="Ids of the users in the group.")
    created_at: datetime
    updated_at: datetime
    requires_approval: bool = Field(
        default=False,
        description="Whether members' inbox replies wait for a manager's approval.",
    )


class GroupCreate(BaseModel):
    """A group to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Social Customer Care"])
    comment: str = Field(
        default="", max_length=2000, examples=["Social customer care team members"]
    )


class GroupUpdate(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_left_out_not_null)

    # A field left out stays as it is; null is refused (422), so the document shows none.
    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    comment: Annotated[str, Field(max_length=2000)] | SkipJsonSchema[None] = None
    requires_approval: bool | SkipJsonSchema[None] = None
