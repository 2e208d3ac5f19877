"""The explicit list of tables whose rows belong to a profile, and what a merge and a forget do
to each. Identity owns the list, not the domains that write the tables, so which rows move
never depends on which modules happen to be imported; `tests/identity/test_owned.py` fails
when a table keyed to a profile is missing from it.

- `move`: records (tickets, events, customer records) and agents' notes go to the survivor
  of a merge.
- `drop`: derived rows (attributes) of the merged profile are deleted; the survivor's are
  rebuilt by attribute refresh in the same transaction. Segment membership is derived too:
  the merged profile leaves every segment, and the survivor's membership (with the merged
  profile's records now on it) is recomputed at each segment's next refresh.
Every listed table loses the profile's rows on forget, except those marked `anonymise`: the
inbox's mentions, responses, cases and survey answers keep their timings for reports, and a
forget empties their content and personal fields and cuts them from the profile (no way back
to the person).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Table

from carebase.models import (
    ActivationState,
    Case,
    CommerceAttributes,
    CustomerAttributes,
    CustomerRecord,
    EngagementAttributes,
    Event,
    FormInvitation,
    FormResponse,
    Mention,
    Note,
    Response,
    RunItem,
    SegmentMember,
    SupportAttributes,
    Ticket,
)
from carebase.models.base import table


@dataclass(frozen=True, slots=True)
class Owned:
    """One profile-owned table: its profile column and what a merge does to its rows."""

    table: Table
    on_merge: Literal["move", "drop"]
    column: str = "profile_id"
    # None: a forget deletes the rows. Otherwise the values a forget writes over them
    # (the profile column is always set to NULL).
    anonymise: dict[str, Any] | None = None


OWNED: tuple[Owned, ...] = (
    Owned(table(Ticket), "move"),
    Owned(table(Event), "move"),
    Owned(table(CustomerRecord), "move"),
    # Agents' notes stay with the person: on the survivor after a merge (and after an undo).
    Owned(table(Note), "move"),
    Owned(table(SupportAttributes), "drop"),
    Owned(table(CommerceAttributes), "drop"),
    Owned(table(EngagementAttributes), "drop"),
    Owned(table(CustomerAttributes), "drop"),
    Owned(table(SegmentMember), "drop"),
    # What activation holds of a person: a run's pending work and the diff state. A merged
    # profile's rows go (the survivor is sent by the next run if its fields changed).
    Owned(table(RunItem), "drop"),
    Owned(table(ActivationState), "drop"),
    # The inbox: the work stays with the person through merges; a forget keeps the timings
    # (reports count them) and empties everything that says who or what.
    Owned(
        table(Mention),
        "move",
        anonymise={
            "body": "",
            "forgotten": True,
            "author_key": None,
            "author_username": None,
            "author_fullname": None,
            "author_avatar": None,
            "author_url": None,
            "thread_key": None,
            "conversation_ref": None,
            # The group key names the author: each forgotten mention becomes its own group.
            "group_key": table(Mention).c.id,
        },
    ),
    Owned(table(Response), "move", anonymise={"body": "", "review_comment": None}),
    Owned(table(Case), "move", anonymise={"case_key": None}),
    Owned(table(FormInvitation), "move", anonymise={}),
    Owned(table(FormResponse), "move", anonymise={"comment": None}),
)
# Keyed to a profile but kept by identity itself: links and merge blocks move with merges and
# go with the profile; the ledger and tombstones are identity's own record of merges.
IDENTITY_TABLES = frozenset({"profiles", "profile_links", "profile_merges", "merge_blocks"})
