"""Customers for the embed tests, posted through the API as a brand would, and people who
look at them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carebase.db.session import Database
from carebase.notes import service as notes_service
from carebase.settings import Settings
from tests.helpers import Brand, ticket
from tests.users.people import user_with_password

ADA_EMAIL = "ada@example.com"
ADA_MOBILE = "+61400000001"
ADA_ID = "C-1"
GRACE_EMAIL = "grace@example.com"
GRACE_MOBILE = "+61400000002"


@dataclass(frozen=True)
class Customers:
    """The profile ids of the loaded customers."""

    ada: str
    grace: str


def _timeline(created: str, closed: str | None) -> dict[str, Any]:
    return {
        "created_at": created,
        "closed_at": closed,
        "duration": None,
        "reply_time": 20,
        "first_reply_time": 15,
    }


def load(brand: Brand) -> Customers:
    """Ada (an email, a mobile, the shop's id C-1; one open and one solved ticket) and Grace
    (a mobile only on a ticket, and an email)."""
    brand.post(
        "customer_record",
        {
            "link": {"email": ADA_EMAIL},
            "first_name": "Ada",
            "last_name": "Lovelace",
            "mobile": ADA_MOBILE,
            "customer_id": ADA_ID,
            "city": "Melbourne",
            "country": "AU",
        },
        {"link": {"email": GRACE_EMAIL}, "first_name": "Grace", "last_name": "Hopper"},
    )
    brand.post(
        "customer_support_ticket",
        ticket(
            "T-1",
            link={"email": ADA_EMAIL, "mobile": ADA_MOBILE},
            title="Parcel never arrived",
            status="open",
            action_at="2026-11-20T09:00:00Z",
            timeline=_timeline("2026-11-20T08:00:00Z", None),
        ),
        ticket(
            "T-2",
            link={"email": ADA_EMAIL},
            title="Wrong size",
            status="solved",
            action_at="2026-10-01T10:00:00Z",
            timeline=_timeline("2026-10-01T08:00:00Z", "2026-10-01T10:00:00Z"),
        ),
        ticket(
            "T-3",
            link={"email": GRACE_EMAIL, "mobile": GRACE_MOBILE},
            title="Refund please",
            status="pending",
            action_at="2026-11-21T09:00:00Z",
            timeline=_timeline("2026-11-21T08:00:00Z", None),
        ),
    )
    brand.post(
        "unify",
        {"records": [{"email": ADA_EMAIL}, {"customer_id": ADA_ID, "system_name": "shop"}]},
    )
    return Customers(
        ada=brand.profile("email", ADA_EMAIL)["id"],
        grace=brand.profile("email", GRACE_EMAIL)["id"],
    )


@dataclass(frozen=True)
class Person:
    """A user who can sign in, and the secret of a session opened for them."""

    id: int
    email: str
    secret: str
    csrf_token: str


def person(
    database: Database,
    settings: Settings,
    now: datetime,
    email: str = "jo@brand.io",
    role: str = "agent",
) -> Person:
    """A user with a password (tests.users.people.PASSWORD) and a fresh session."""
    signed = user_with_password(database, settings, now, email, first_name="Jo", role=role)
    return Person(signed.user.id, email, signed.secret, signed.session.csrf_token)


def note(database: Database, profile_id: str, author_id: int, body: str, now: datetime) -> None:
    """A note on a profile, written through the service."""
    with database.unit_of_work() as session:
        notes_service.write(session, profile_id, author_id=author_id, body=body, now=now)
