"""Users and groups over HTTP: the Activity API's lists (`activity:read`) and the admin API
(`admin`) to create, edit and archive them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from carebase.auth.scopes import ACTIVITY_READ, ADMIN
from carebase.auth.service import Principal
from carebase.auth.signin_links import IssuedLink
from carebase.http.deps import DbSession, Now, get_settings, require_scope
from carebase.http.routing import JSONRoute
from carebase.users import service
from carebase.users.schemas import (
    ActivityGroup,
    ActivityUser,
    GroupCreate,
    GroupOut,
    GroupUpdate,
    SessionsRevoked,
    SignInLinkOut,
    UserCreate,
    UserCreated,
    UserOut,
    UserUpdate,
)

router = APIRouter(route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(ACTIVITY_READ))]
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]
UserId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The user's numeric id.")]
GroupId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The group's numeric id.")]

_EMAIL_TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another user has this email (`details.reason`: `email_taken`)."}
}
_NAME_TAKEN: dict[int | str, dict[str, Any]] = {
    409: {"description": "Another group has this name (`details.reason`: `name_taken`)."}
}


def _link(link: IssuedLink) -> SignInLinkOut:
    return SignInLinkOut(url=link.url, purpose=link.purpose, expires_at=link.expires_at)


@router.get(
    "/v1/users", tags=["users"], operation_id="listUsers", response_model=list[ActivityUser]
)
def list_users(_reader: Reader, session: DbSession, now: Now) -> list[ActivityUser]:
    """Every user, as Lexer's Activity API lists them: a JSON array ordered by id, archived
    users included (`archived: true`). `gmtoffset` is the user's time zone's offset from
    UTC now, in hours; `groups` the ids of the active groups the user is in."""
    return service.activity_users(session, now=now)


@router.get(
    "/v1/groups", tags=["groups"], operation_id="listGroups", response_model=list[ActivityGroup]
)
def list_groups(_reader: Reader, session: DbSession) -> list[ActivityGroup]:
    """Every active group, as Lexer's Activity API lists them: a JSON array ordered by id.
    Archived groups are left out (`GET /v1/groups/{id}` still answers them)."""
    return service.activity_groups(session)


@router.post(
    "/v1/users",
    tags=["users"],
    status_code=201,
    operation_id="createUser",
    response_model=UserCreated,
    responses=_EMAIL_TAKEN,
)
def create_user(
    body: UserCreate, request: Request, admin: Admin, session: DbSession, now: Now
) -> UserCreated:
    """Create an agent or a manager, without a password. The answer holds a one-time link
    (valid 72 hours) with which the user sets one: shown here once, stored only hashed."""
    created = service.create_user(
        session,
        get_settings(request),
        email=body.email,
        first_name=body.first_name,
        last_name=body.last_name,
        role=body.role,
        timezone=body.timezone,
        groups=body.groups,
        now=now,
        created_by=admin.token_id,
    )
    user = service.describe_user(session, created.user, now=now)
    return UserCreated(**user.model_dump(), sign_in_link=_link(created.link))


@router.get("/v1/users/{user_id}", tags=["users"], operation_id="getUser", response_model=UserOut)
def get_user(user_id: UserId, _admin: Admin, session: DbSession, now: Now) -> UserOut:
    """One user, archived or not, with its role and everything a manager sees."""
    return service.describe_user(session, service.get_user(session, user_id), now=now)


@router.patch(
    "/v1/users/{user_id}",
    tags=["users"],
    operation_id="updateUser",
    response_model=UserOut,
    responses=_EMAIL_TAKEN,
)
def update_user(
    user_id: UserId, body: UserUpdate, _admin: Admin, session: DbSession, now: Now
) -> UserOut:
    """Change a user's email, names, time zone or role, or its groups (`groups` replaces
    its memberships of active groups). Fields left out stay as they are."""
    changes = body.model_dump(exclude_unset=True)
    user = service.update_user(session, user_id, changes, now=now)
    return service.describe_user(session, user, now=now)


@router.post(
    "/v1/users/{user_id}/archive",
    tags=["users"],
    operation_id="archiveUser",
    response_model=UserOut,
)
def archive_user(user_id: UserId, _admin: Admin, session: DbSession, now: Now) -> UserOut:
    """Archive a user: it cannot sign in, its sessions end at once and its unused sign-in
    links stop working; its history stays. Archiving twice is harmless."""
    user = service.archive_user(session, user_id, now=now)
    return service.describe_user(session, user, now=now)


@router.post(
    "/v1/users/{user_id}/restore",
    tags=["users"],
    operation_id="restoreUser",
    response_model=UserOut,
)
def restore_user(user_id: UserId, _admin: Admin, session: DbSession, now: Now) -> UserOut:
    """Restore an archived user: it can sign in again with its password."""
    user = service.restore_user(session, user_id, now=now)
    return service.describe_user(session, user, now=now)


@router.post(
    "/v1/users/{user_id}/sign-in-link",
    tags=["users"],
    status_code=201,
    operation_id="createSignInLink",
    response_model=SignInLinkOut,
    responses={409: {"description": "The user is archived (`details.reason`: `archived`)."}},
)
def create_sign_in_link(
    user_id: UserId, request: Request, admin: Admin, session: DbSession, now: Now
) -> SignInLinkOut:
    """A one-time link to set a password - an invitation while the user has none (72
    hours), else a reset (1 hour) - shown here once. The user's earlier unused links stop
    working. carebase sends no mail: hand the link over."""
    link = service.issue_sign_in_link(
        session, get_settings(request), user_id, now=now, created_by=admin.token_id
    )
    return _link(link)


@router.delete(
    "/v1/users/{user_id}/sessions",
    tags=["users"],
    operation_id="signOutUserEverywhere",
    response_model=SessionsRevoked,
)
def sign_out_everywhere(
    user_id: UserId, _admin: Admin, session: DbSession, now: Now
) -> SessionsRevoked:
    """Sign the user out everywhere: every open console session ends at once."""
    return SessionsRevoked(revoked=service.sign_out_everywhere(session, user_id, now=now))


@router.post(
    "/v1/groups",
    tags=["groups"],
    status_code=201,
    operation_id="createGroup",
    response_model=GroupOut,
    responses=_NAME_TAKEN,
)
def create_group(body: GroupCreate, _admin: Admin, session: DbSession, now: Now) -> GroupOut:
    """Create a group. Users join it through their `groups` (`PATCH /v1/users/{id}`)."""
    group = service.create_group(session, name=body.name, comment=body.comment, now=now)
    return service.describe_group(session, group)


@router.get(
    "/v1/groups/{group_id}", tags=["groups"], operation_id="getGroup", response_model=GroupOut
)
def get_group(group_id: GroupId, _admin: Admin, session: DbSession) -> GroupOut:
    """One group, archived or not, with its members' ids."""
    return service.describe_group(session, service.get_group(session, group_id))


@router.patch(
    "/v1/groups/{group_id}",
    tags=["groups"],
    operation_id="updateGroup",
    response_model=GroupOut,
    responses=_NAME_TAKEN,
)
def update_group(
    group_id: GroupId, body: GroupUpdate, _admin: Admin, session: DbSession, now: Now
) -> GroupOut:
    """Rename a group or change its comment."""
    changes = body.model_dump(exclude_unset=True)
    group = service.update_group(session, group_id, changes, now=now)
    return service.describe_group(session, group)


@router.post(
    "/v1/groups/{group_id}/archive",
    tags=["groups"],
    operation_id="archiveGroup",
    response_model=GroupOut,
)
def archive_group(group_id: GroupId, _admin: Admin, session: DbSession, now: Now) -> GroupOut:
    """Archive a group: it leaves `GET /v1/groups` and its members' `groups`, and keeps its
    members for a restore."""
    return service.describe_group(session, service.archive_group(session, group_id, now=now))


@router.post(
    "/v1/groups/{group_id}/restore",
    tags=["groups"],
    operation_id="restoreGroup",
    response_model=GroupOut,
)
def restore_group(group_id: GroupId, _admin: Admin, session: DbSession, now: Now) -> GroupOut:
    """Restore an archived group, with its members."""
    return service.describe_group(session, service.restore_group(session, group_id, now=now))
