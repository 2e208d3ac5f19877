"""The first manager: someone must be able to sign in to a new carebase.

`carebase serve --demo` (and so `python3 dev.py run`) on a database with no users creates
the demo brand's manager, `manager@demo.carebase` (Australia/Sydney, in the group
"Demo Brand support"), and prints its one-time sign-in link (an invitation, 72 hours) beside
the first admin token. Without `--demo`, `serve` says how to create one with
`carebase user create … --role manager`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from carebase.errors import Conflict
from carebase.settings import Settings
from carebase.users import repository, service
from carebase.users.service import CreatedUser

DEMO_MANAGER_EMAIL = "manager@demo.carebase"
DEMO_GROUP = "Demo Brand support"
CREATED_BY = "first start"
CREATE_HINT = (
    "carebase user create --email you@example.com --first-name You --last-name Manager "
    "--role manager"
)


def has_users(session: Session) -> bool:
    """Whether anyone (archived or not) exists to sign in."""
    return repository.any_user(session)


def ensure_demo_manager(
    session: Session, settings: Settings, *, now: datetime
) -> CreatedUser | None:
    """On a database with no users, the demo brand's manager and its invitation link; else
    None (also when a concurrent start created it first)."""
    if has_users(session):
        return None
    group = repository.find_group_by_name(session, DEMO_GROUP)
    if group is None:
        try:
            group = service.create_group(
                session,
                name=DEMO_GROUP,
                comment="The demo brand's customer care team.",
                now=now,
            )
        except Conflict:
            return None
    try:
        return service.create_user(
            session,
            settings,
            email=DEMO_MANAGER_EMAIL,
            first_name="Demo",
            last_name="Manager",
            role="manager",
            timezone="Australia/Sydney",
            groups=[group.id],
            now=now,
            created_by=CREATED_BY,
        )
    except Conflict:
        return None
