"""Users and groups: create, edit, archive; sign-in, passwords and one-time links.

The console, the admin API and the CLI all call these functions. Users are archived, never
deleted: an archived user cannot sign in (its sessions end and its unused links are voided
when it is archived) and keeps its history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.auth import passwords, sessions, signin_links, throttle
from carebase.auth.sessions import CreatedSession, SessionUser
from carebase.auth.signin_links import IssuedLink, LinkInfo
from carebase.db.session import Database
from carebase.errors import Conflict, InvalidCredentials, NotFound, ValidationFailed, problem
from carebase.models import Group, User
from carebase.models.users import ROLES
from carebase.settings import Settings
from carebase.users import repository, rules
from carebase.users.schemas import ActivityGroup, ActivityUser, GroupOut, UserOut


@dataclass(frozen=True, slots=True)
class CreatedUser:
    """A new user and the one-time link to set a first password (shown once)."""

    user: User
    link: IssuedLink


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A successful sign-in: who, and the new session (its `secret` goes in the cookie and
    is never available again)."""

    user: SessionUser
    session: CreatedSession

    @property
    def secret(self) -> str:
        """The session's cookie value."""
        return self.session.secret


# Checking input.


def _text(field: str, raw: str, *, required: bool, max_length: int) -> str:
    value = rules.clean_name(raw)
    if "\x00" in value:
        raise ValidationFailed.on(field, "must not contain a NUL character")
    if required and not value:
        raise ValidationFailed.on(field, "must not be empty")
    if len(value) > max_length:
        raise ValidationFailed.on(field, f"must be at most {max_length} characters")
    return value


def _email(raw: str) -> str:
    email = rules.normalise_email(raw)
    if email is None:
        raise ValidationFailed.on("email", "not a valid email address")
    return email


def _timezone(raw: str) -> str:
    zone = rules.canonical_timezone(raw)
    if zone is None:
        raise ValidationFailed.on("timezone", "not an IANA time zone, e.g. Australia/Sydney")
    return zone


def _role(raw: str) -> str:
    if raw not in ROLES:
        raise ValidationFailed.on("role", f"must be one of {', '.join(ROLES)}")
    return raw


def _active_groups(session: Session, group_ids: Sequence[int]) -> list[int]:
    found = {group.id: group for group in repository.groups_by_ids(session, group_ids)}
    problems = []
    for index, group_id in enumerate(group_ids):
        group = found.get(group_id)
        if group is None:
            problems.append(problem(f"groups.{index}", f"no group has id {group_id}"))
        elif group.archived_at is not None:
            problems.append(problem(f"groups.{index}", f"group {group_id} is archived"))
    if problems:
        raise ValidationFailed(details=problems)
    return sorted(found)


def _email_taken() -> Conflict:
    return Conflict("A user with this email already exists.", details={"reason": "email_taken"})


def _name_taken() -> Conflict:
    return Conflict("A group with this name already exists.", details={"reason": "name_taken"})


def _changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    for field, value in changes.items():
        if value is None:
            raise ValidationFailed.on(field, "must not be null; leave the field out instead")
    return dict(changes)


# Users.


def create_user(
    session: Session,
    settings: Settings,
    *,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    timezone: str = rules.DEFAULT_TIMEZONE,
    groups: Sequence[int] = (),
    now: datetime,
    created_by: str | None,
) -> CreatedUser:
    """Create a user without a password, and the invitation link to set one (72 hours).
    Conflict (409, `email_taken`) when the email is taken, also by a concurrent request."""
    user = User(
        email=_email(email),
        first_name=_text("first_name", first_name, required=True, max_length=100),
        last_name=_text("last_name", last_name, required=False, max_length=100),
        timezone=_timezone(timezone),
        role=_role(role),
        password_hash=None,
        sign_in_count=0,
        archived=False,
        created_at=now,
        updated_at=now,
        created_by=created_by,
    )
    group_ids = _active_groups(session, groups)
    if not repository.flush_unique(session, user):
        raise _email_taken()
    repository.set_active_groups(session, user.id, group_ids)
    link = signin_links.issue(
        session, settings, user_id=user.id, purpose="invite", now=now, created_by=created_by
    )
    return CreatedUser(user, link)


def get_user(session: Session, user_id: int) -> User:
    """One user, or NotFound."""
    user = repository.get_user(session, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def find_user_by_email(session: Session, email: str) -> User:
    """The user with this email (any case), or NotFound."""
    normalised = rules.normalise_email(email)
    user = repository.find_user_by_email(session, normalised) if normalised else None
    if user is None:
        raise NotFound("No user has this email.")
    return user


def list_users(session: Session) -> Sequence[User]:
    """Every user, archived ones too, by id."""
    return repository.list_users(session)


def describe_users(session: Session, users: Sequence[User], *, now: datetime) -> list[UserOut]:
    """Users as a manager sees them, with their active groups."""
    groups = repository.active_group_ids(session, [user.id for user in users])
    return [
        UserOut(
            id=user.id,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            timezone=user.timezone,
            gmtoffset=rules.gmtoffset(user.timezone, now),
            role=user.role,
            groups=groups.get(user.id, []),
            has_password=user.password_hash is not None,
            sign_in_count=user.sign_in_count,
            last_sign_in_at=user.last_sign_in_at,
            archived=user.archived,
            archived_at=user.archived_at,
            created_at=user.created_at,
            updated_at=user.updated_at,
            created_by=user.created_by,
        )
        for user in users
    ]


def describe_user(session: Session, user: User, *, now: datetime) -> UserOut:
    """One user as a manager sees it."""
    return describe_users(session, [user], now=now)[0]


def activity_users(session: Session, *, now: datetime) -> list[ActivityUser]:
    """Every user in the Activity API's shape, by id: archived ones too (`archived: true`),
    `groups` the ids of the active groups they are in."""
    groups = repository.active_group_ids(session)
    return [
        ActivityUser(
            id=user.id,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            timezone=user.timezone,
            gmtoffset=rules.gmtoffset(user.timezone, now),
            sign_in_count=user.sign_in_count,
            last_sign_in_at=rules.activity_time(user.last_sign_in_at),
            archived=user.archived,
            groups=groups.get(user.id, []),
        )
        for user in repository.list_users(session)
    ]


def update_user(
    session: Session, user_id: int, changes: Mapping[str, Any], *, now: datetime
) -> User:
    """Change a user's email, names, time zone, role or active groups (`groups` replaces
    them); fields not in `changes` stay. Conflict (409) when the new email is taken."""
    fields = _changes(changes)
    user = get_user(session, user_id)
    if "first_name" in fields:
        user.first_name = _text("first_name", fields["first_name"], required=True, max_length=100)
    if "last_name" in fields:
        user.last_name = _text("last_name", fields["last_name"], required=False, max_length=100)
    if "timezone" in fields:
        user.timezone = _timezone(fields["timezone"])
    if "role" in fields:
        user.role = _role(fields["role"])
    if "email" in fields:
        user.email = _email(fields["email"])
    if "groups" in fields:
        repository.set_active_groups(session, user.id, _active_groups(session, fields["groups"]))
    user.updated_at = now
    if not repository.flush_unique(session):
        raise _email_taken()
    return user


def archive_user(session: Session, user_id: int, *, now: datetime) -> User:
    """Archive a user: it cannot sign in, its sessions end and its unused links are voided;
    its history stays. Archiving twice keeps the first time."""
    user = get_user(session, user_id)
    if not user.archived:
        user.archived = True
        user.archived_at = now
        user.updated_at = now
        session.flush()
    sessions.revoke_all_for_user(session, user.id, now=now)
    signin_links.void_unused(session, user.id)
    return user


def restore_user(session: Session, user_id: int, *, now: datetime) -> User:
    """Undo an archive: the user can sign in again with its password (its old sessions stay
    ended)."""
    user = get_user(session, user_id)
    if user.archived:
        user.archived = False
        user.archived_at = None
        user.updated_at = now
        session.flush()
    return user


def issue_sign_in_link(
    session: Session, settings: Settings, user_id: int, *, now: datetime, created_by: str | None
) -> IssuedLink:
    """A one-time link to set a password: an invitation (72 hours) while the user has no
    password, else a reset (1 hour). Voids the user's earlier unused links. Conflict (409)
    for an archived user."""
    user = get_user(session, user_id)
    if user.archived:
        raise Conflict(
            f"User {user.id} is archived and cannot sign in; restore it first.",
            details={"reason": "archived"},
        )
    purpose: signin_links.Purpose = "invite" if user.password_hash is None else "reset"
    return signin_links.issue(
        session, settings, user_id=user.id, purpose=purpose, now=now, created_by=created_by
    )


def sign_out_everywhere(session: Session, user_id: int, *, now: datetime) -> int:
    """End every open session of a user; how many were open."""
    user = get_user(session, user_id)
    return sessions.revoke_all_for_user(session, user.id, now=now)


# Groups.


def create_group(session: Session, *, name: str, comment: str, now: datetime) -> Group:
    """Create a group; Conflict (409, `name_taken`) when the name is taken."""
    group = Group(
        name=_text("name", name, required=True, max_length=200),
        comment=_comment(comment),
        archived_at=None,
        created_at=now,
        updated_at=now,
    )
    if not repository.flush_unique(session, group):
        raise _name_taken()
    return group


def _comment(raw: str) -> str:
    value = raw.strip()
    if "\x00" in value:
        raise ValidationFailed.on("comment", "must not contain a NUL character")
    if len(value) > 2000:
        raise ValidationFailed.on("comment", "must be at most 2000 characters")
    return value


def get_group(session: Session, group_id: int) -> Group:
    """One group, archived or not, or NotFound."""
    group = repository.get_group(session, group_id)
    if group is None:
        raise NotFound(f"No group with id {group_id}.")
    return group


def find_group_by_name(session: Session, name: str) -> Group:
    """The group with this name, or NotFound."""
    group = repository.find_group_by_name(session, rules.clean_name(name))
    if group is None:
        raise NotFound(f"No group is named {rules.clean_name(name)!r}.")
    return group


def list_groups(session: Session, *, include_archived: bool = False) -> Sequence[Group]:
    """Groups by id; active ones only unless asked."""
    return repository.list_groups(session, include_archived=include_archived)


def activity_groups(session: Session) -> list[ActivityGroup]:
    """Active groups in the Activity API's shape, by id (the shape has no archived flag)."""
    return [
        ActivityGroup(id=group.id, name=group.name, comment=group.comment)
        for group in repository.list_groups(session, include_archived=False)
    ]


def describe_group(session: Session, group: Group) -> GroupOut:
    """A group as a manager sees it, with its members."""
    return GroupOut(
        id=group.id,
        name=group.name,
        comment=group.comment,
        archived=group.archived_at is not None,
        archived_at=group.archived_at,
        members=repository.member_ids(session, group.id),
        requires_approval=group.requires_approval,
        created_at=group.created_at,
        updated_at=group.updated_at,
    )


def update_group(
    session: Session, group_id: int, changes: Mapping[str, Any], *, now: datetime
) -> Group:
    """Rename a group, change its comment or whether its replies need approval; Conflict
    (409) when the name is taken."""
    fields = _changes(changes)
    group = get_group(session, group_id)
    if "name" in fields:
        group.name = _text("name", fields["name"], required=True, max_length=200)
    if "comment" in fields:
        group.comment = _comment(fields["comment"])
    if "requires_approval" in fields:
        # Members' replies wait for a manager's approval before they are sent (inbox).
        group.requires_approval = bool(fields["requires_approval"])
    group.updated_at = now
    if not repository.flush_unique(session):
        raise _name_taken()
    return group


def archive_group(session: Session, group_id: int, *, now: datetime) -> Group:
    """Archive a group: it leaves `GET /v1/groups` and its members' `groups`, and keeps
    its members for a restore. Archiving twice keeps the first time."""
    group = get_group(session, group_id)
    if group.archived_at is None:
        group.archived_at = now
        group.updated_at = now
        session.flush()
    return group


def restore_group(session: Session, group_id: int, *, now: datetime) -> Group:
    """Undo an archive, members and all."""
    group = get_group(session, group_id)
    if group.archived_at is not None:
        group.archived_at = None
        group.updated_at = now
        session.flush()
    return group


# Signing in.


def session_user(user: User) -> SessionUser:
    """Who a session belongs to, from the user's record."""
    return SessionUser(
        user.id, user.email, user.first_name, user.last_name, user.role, user.timezone
    )


def sign_in(
    database: Database,
    settings: Settings,
    *,
    email: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> SignedIn:
    """Check an email and password and open a session.

    Raises TooManyAttempts (429, Retry-After) when the account or the client address has
    failed too often, and InvalidCredentials (401) - one message for every reason - when
    the email is unknown, the password wrong, the user archived or without a password yet.
    The password is verified outside any transaction (it takes ~0.2 s), and an unknown
    email is verified against a dummy hash, so timing does not reveal accounts.
    """
    address = rules.normalise_email(email) or email.strip().lower()
    with database.counters() as counters:
        attempt = throttle.begin(counters, settings, email=address, ip=ip, now=now)
    with database.unit_of_work(write=False) as session:
        row = repository.credentials(session, address)
    stored: str | None = None
    if row is not None and not row.archived:
        stored = row.password_hash
    if not passwords.verify_password(stored, password, env=settings.env):
        raise InvalidCredentials()
    assert row is not None
    assert stored is not None
    user_id: int = row.id
    new_hash = None
    if passwords.needs_rehash(stored, env=settings.env):
        new_hash = passwords.hash_password(password, env=settings.env)

    def open_session(session: Session) -> SignedIn | None:
        # Still not archived, and the password still the one verified?
        if not repository.record_sign_in(
            session, user_id, verified_hash=stored, new_hash=new_hash, now=now
        ):
            return None
        created = sessions.create(
            session, settings, user_id=user_id, user_agent=user_agent, now=now
        )
        return SignedIn(session_user(get_user(session, user_id)), created)

    signed_in = database.transaction(open_session)
    if signed_in is None:
        raise InvalidCredentials()
    with database.counters() as counters:
        throttle.succeeded(counters, settings, attempt, now=now)
    return signed_in


def inspect_link(session: Session, token: str, *, now: datetime) -> LinkInfo:
    """The live one-time link holding `token`; InvalidSigninLink (410) naming why not."""
    return signin_links.inspect(session, token, now=now)


def set_password_with_link(
    database: Database,
    settings: Settings,
    *,
    token: str,
    password: str,
    user_agent: str | None,
    now: datetime,
) -> SignedIn:
    """Spend a one-time link: set the user's password, end its other sessions, and sign it
    in. InvalidSigninLink (410) when the link is unknown, used, expired or its user
    archived; ValidationFailed (422, field `password`) when the password breaks the rules.
    Of two concurrent uses of one link, exactly one succeeds."""
    with database.unit_of_work(write=False) as session:
        link = signin_links.inspect(session, token, now=now)
    passwords.check_password(password, link.email)
    new_hash = passwords.hash_password(password, env=settings.env)

    def spend(session: Session) -> SignedIn:
        current = signin_links.inspect(session, token, now=now)
        signin_links.use(session, current, now=now)
        repository.set_password_hash(session, current.user_id, new_hash, now)
        sessions.revoke_all_for_user(session, current.user_id, now=now)
        signin_links.void_unused(session, current.user_id)
        repository.record_sign_in(
            session, current.user_id, verified_hash=new_hash, new_hash=None, now=now
        )
        created = sessions.create(
            session, settings, user_id=current.user_id, user_agent=user_agent, now=now
        )
        return SignedIn(session_user(get_user(session, current.user_id)), created)

    return database.transaction(spend)


def change_password(
    database: Database,
    settings: Settings,
    *,
    user_id: int,
    current_password: str,
    new_password: str,
    keep_session: str | None,
    ip: str | None,
    now: datetime,
) -> int:
    """A signed-in user changes its password: the current one is checked (and throttled as
    a sign-in), the new one follows the rules, and every other session of the user ends
    (`keep_session`, the one asking, stays). How many sessions ended."""
    with database.unit_of_work(write=False) as session:
        user = get_user(session, user_id)
        email, stored = user.email, None if user.archived else user.password_hash
    with database.counters() as counters:
        attempt = throttle.begin(counters, settings, email=email, ip=ip, now=now)
    if not passwords.verify_password(stored, current_password, env=settings.env):
        raise ValidationFailed.on("current_password", "is not your current password")
    with database.counters() as counters:
        throttle.succeeded(counters, settings, attempt, now=now)
    passwords.check_password(new_password, email, field="new_password")
    new_hash = passwords.hash_password(new_password, env=settings.env)

    def store(session: Session) -> int:
        repository.set_password_hash(session, user_id, new_hash, now)
        signin_links.void_unused(session, user_id)
        return sessions.revoke_all_for_user(session, user_id, now=now, keep=keep_session)

    return database.transaction(store)
