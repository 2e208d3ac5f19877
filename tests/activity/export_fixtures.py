"""The handled set of the export tests: a day's mentions (one handled, one waiting, one
forgotten, one the day after) with responses, notes, classifications and a profile's notes,
and the CSV rows they make, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from carebase.db.session import Database
from carebase.ids import new_id
from carebase.models import Classification, MentionClassification, Note, Response
from carebase.models.identity import Profile
from tests.inbox.conftest import People, make_mention

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of the handled day."""
    return DAY.replace(hour=hour, minute=minute, second=second)


def _response(mention_id: str, body: str, when: datetime, **fields: Any) -> Response:
    values: dict[str, Any] = {
        "id": new_id("rsp"),
        "mention_id": mention_id,
        "author_id": None,
        "body": body,
        "private": False,
        "status": "sent",
        "origin": "console",
        "origin_key": "",
        "submitted_at": when,
        "sent_at": when,
        "created_at": when,
        "updated_at": when,
    }
    values.update(fields)
    return Response(**values)


def handled_set(database: Database, people: People) -> dict[str, Any]:
    """Three mentions of 2026-11-20 (one handled, one waiting, one forgotten) and one of the
    next day; their ids and agents."""
    ana, bo = people.agent("Ana"), people.agent("Bo")
    with database.unit_of_work() as session:
        billing = Classification(name="Billing", colour="#00ff00", created_at=DAY, updated_at=DAY)
        refund = Classification(name="Refund", colour="#ff0000", created_at=DAY, updated_at=DAY)
        session.add_all([refund, billing])
        session.add(Profile(id="prf_kim", created_at=DAY, updated_at=DAY, merged_into_id=None))
        session.flush()
        for n, (body, deleted) in enumerate(
            [("@vip customer", None), ("prefers email", None), ("old", at(9))]
        ):
            session.add(
                Note(
                    id=f"not_{n}",
                    profile_id="prf_kim",
                    author_id=ana,
                    body=body,
                    created_at=at(8, n),
                    updated_at=at(8, n),
                    deleted_at=deleted,
                )
            )
        handled = make_mention(
            session,
            published_at=at(10),
            profile_id="prf_kim",
            author_username="kim",
            author_fullname="Kim Customer",
            body='=HYPERLINK("x")',
            assignee_id=bo,
            first_responder_id=ana,
            assigned_at=at(10, 4),
            first_response_at=at(10, 5, 30),
            state="closed",
            state_at=at(10, 20),
            queue_s=240.0,
            action_s=90.0,
            response_s=330.0,
            broke_sla=False,
            broke_action_sla=True,
        )
        waiting = make_mention(
            session,
            published_at=at(10, 30),
            author_username="lee",
            author_fullname="Lee",
            body="Hello?",
            assignee_id=bo,
            state="assigned",
            state_at=at(10, 31),
            queue_s=60.0,
        )
        forgotten = make_mention(
            session,
            published_at=at(11),
            profile_id="prf_kim",
            author_username=None,
            author_fullname=None,
            body="",
            forgotten=True,
            first_responder_id=ana,
            first_response_at=at(11, 2, 5),
            state="responded",
            state_at=at(11, 2, 5),
            response_s=125.0,
            broke_sla=True,
        )
        later = make_mention(session, published_at=DAY + timedelta(days=1))
        session.add_all(
            [
                _response(handled.id, "Anything else?", at(10, 10), author_id=ana),
                _response(handled.id, "Hi Kim, on its way", at(10, 5, 30), author_id=ana),
                _response(handled.id, "a draft", at(10, 1), status="draft", sent_at=None),
                _response(handled.id, "refund approved", at(10, 4), private=True),
                _response(handled.id, "checked the order", at(10, 3), private=True),
                _response(forgotten.id, "secret", at(11, 1), private=True),
            ]
        )
        for classification in (refund, billing):
            session.add(
                MentionClassification(
                    mention_id=handled.id,
                    classification_id=classification.id,
                    applied_by_type="user",
                    applied_by_user_id=ana,
                    applied_at=at(10, 6),
                )
            )
    return {
        "ana": ana,
        "bo": bo,
        "handled": handled.id,
        "waiting": waiting.id,
        "forgotten": forgotten.id,
        "later": later.id,
    }


def expected_rows(ids: dict[str, Any]) -> dict[str, list[str]]:
    """The rows of the handled set, worked out by hand (an `@handle` cell is kept as text,
    as a spreadsheet would read a leading `@` as a formula)."""
    return {
        "handled": [
            ids["handled"], "2026-11-20 10:00:00", "'@acme_help", "twitter", "kim",
            "Kim Customer", "Ana Test", "closed", "Billing | Refund", "4.00", "1.50", "5.50",
            "Yes", "No", "2026-11-20 10:05:30", "2026-11-20 10:20:00", "'=HYPERLINK(\"x\")",
            "Hi Kim, on its way", "checked the order | refund approved",
            "'@vip customer | prefers email",
        ],
        "waiting": [
            ids["waiting"], "2026-11-20 10:30:00", "'@acme_help", "twitter", "lee", "Lee",
            "Bo Test", "assigned", "", "1.00", "", "", "", "", "", "2026-11-20 10:31:00",
            "Hello?", "", "", "",
        ],
        "forgotten": [
            ids["forgotten"], "2026-11-20 11:00:00", "'@acme_help", "twitter", "", "",
            "Ana Test", "responded", "", "", "", "2.08", "No", "", "2026-11-20 11:02:05",
            "2026-11-20 11:02:05", "", "", "", "",
        ],
    }  # fmt: skip
