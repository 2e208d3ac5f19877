"""The choices the inbox settings forms offer, read through each owner's service: SLA
policies and business hours (inbox-sla), classifications (inbox-workflow), users and groups
(users), webhook destinations (activation) and forms (inbox-forms). Each is a list of
(value, label) pairs, ready for a select or checkboxes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carebase.activation.schemas import DestinationOut
from carebase.inbox import classifications, forms, policies
from carebase.settings import Settings
from carebase.users import service as users
from carebase.web.pages.activation_shared import all_destinations

Choices = list[tuple[str, str]]


def policy_choices(session: Session) -> Choices:
    """Every SLA policy, by name."""
    return [(p.id, p.name) for p in policies.list_policies(session)]


def hours_choices(session: Session) -> Choices:
    """Every business hours schedule, by name."""
    return [(h.id, h.name) for h in policies.list_hours(session)]


def classification_choices(session: Session) -> Choices:
    """The classifications a rule may still apply (not archived)."""
    return [
        (str(c.id), c.name)
        for c in classifications.list_classifications(session, include_archived=False)
    ]


def form_choices(session: Session) -> Choices:
    """The NPS forms a case's survey may invite to (not archived)."""
    return [(str(f.id), f.name) for f in forms.list_forms(session) if f.nps and not f.archived]


def user_choices(session: Session) -> Choices:
    """Every user who can still be assigned work (not archived)."""
    return [
        (str(u.id), f"{u.first_name} {u.last_name}".strip() or u.email)
        for u in users.list_users(session)
        if u.archived_at is None
    ]


def group_choices(session: Session) -> Choices:
    """Every group that is not archived."""
    return [(str(g.id), g.name) for g in users.list_groups(session)]


def webhook_choices(session: Session, settings: Settings) -> Choices:
    """The activation webhook destinations a reply can be delivered to."""
    found: list[DestinationOut] = all_destinations(session, settings)
    return [(d.id, d.name) for d in found if d.kind == "webhook"]
