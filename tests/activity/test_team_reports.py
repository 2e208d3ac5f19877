"""The Team reports through POST /v1/activity/reports on both engines: `user_summary` (each
agent's assigned and first-responded mentions, response and action times, SLA breaches,
fractions) and `user_volume` (each agent's mentions by current state). Mentions are
inserted directly and stamped by the inbox's own `sla.stamp`; every expected value is
worked out here from the timeline each test sets up."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.activity.team_reports import volume_states
from carebase.db.session import Database
from carebase.inbox import replies, sla
from carebase.models import Mention, Response
from carebase.settings import Settings
from tests.activation.receiver import Receiver, RunningReceiver
from tests.conftest import FakeClock, make_token
from tests.inbox.conftest import People, make_mention
from tests.inbox.replies_helpers import LoopbackChannel, run_replies

SUMMARY_KEYS = [
    "first_name",
    "last_name",
    "mentions_assigned",
    "user_id",
    "responded_to",
    "responded_to_in_private",
    "avg_response_time",
    "min_response_time",
    "max_response_time",
    "avg_action_response_time",
    "min_action_response_time",
    "max_action_response_time",
    "total_responded_to",
    "broke_sla",
    "broke_action_sla",
    "avg_response_time_min",
    "avg_action_response_time_min",
    "fraction_responded_to",
    "fraction_responded_to_in_private",
    "fraction_broke_sla",
    "fraction_broke_action_sla",
    "median_response_time",
    "p90_response_time",
    "median_action_response_time",
    "p90_action_response_time",
]
VOLUME_KEYS = ["user_id", "first_name", "last_name", "states"]
STATE_KEYS = [
    "all_states",
    "all_closed_states",
    "new",
    "assigned",
    "in_progress",
    "responded",
    "awaiting_approval",
    "redirected",
    "irrelevant",
    "duplicate",
    "closed",
    "no_response_required",
    "closed_thread",
]
CLOSED = {"redirected", "irrelevant", "duplicate", "closed", "no_response_required"}
# The tests' SLA snapshot (DEFAULT_SLA): two hours on each clock, calendar time.
SLA_SECONDS = 7200
DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def team(database: Database, settings: Settings, clock: FakeClock) -> People:
    """Builders for users and groups."""
    return People(database, settings, clock)


@pytest.fixture
def token(database: Database) -> str:
    """A token that may read the Activity reports."""
    return make_token(database, "activity:read", name="activity")


def _report(client: TestClient, token: str, kind: str, **fields: Any) -> Any:
    body = {"type": kind, "date_from": "2026-11-01", "date_to": "2026-11-23", **fields}
    answer = client.post("/v1/activity/reports", json=body, headers={"Auth-Api-Token": token})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _mention(
    database: Database,
    *,
    at: datetime = DAY,
    state: str = "new",
    assignee: int | None = None,
    assigned_after: float | None = None,
    responder: int | None = None,
    responded_after: float | None = None,
    source_type: str = "twitter",
    group: int | None = None,
) -> str:
    """A mention published `at`, assigned and first answered the given seconds later, its
    response measures stamped as the inbox stamps them at the first response."""
    with database.unit_of_work() as session:
        mention = make_mention(
            session, published_at=at, state=state, source_type=source_type, assigned_group_id=group
        )
        mention.assignee_id = assignee
        if assigned_after is not None:
            mention.assigned_at = at + timedelta(seconds=assigned_after)
        if responder is not None and responded_after is not None:
            mention.first_responder_id = responder
            mention.first_response_at = at + timedelta(seconds=responded_after)
            sla.stamp(mention)
        session.flush()
        return mention.id


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the nearest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _fraction(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _expected_summary(
    user: int,
    first_name: str,
    assigned: int,
    responses: Sequence[float],
    actions: Sequence[float],
    private: int,
) -> dict[str, Any]:
    """The row the contract defines, from the raw durations of the user's first responses."""
    n = len(responses)
    broke = sum(1 for s in responses if s > SLA_SECONDS)
    broke_action = sum(1 for s in actions if s > SLA_SECONDS)
    mean = sum(responses) / n if n else None
    action_mean = sum(actions) / len(actions) if actions else None
    return {
        "first_name": first_name,
        "last_name": "Test",
        "mentions_assigned": assigned,
        "user_id": str(user),
        "responded_to": n,
        "responded_to_in_private": private,
        "avg_response_time": mean,
        "min_response_time": min(responses) if n else None,
        "max_response_time": max(responses) if n else None,
        "avg_action_response_time": action_mean,
        "min_action_response_time": min(actions) if actions else None,
        "max_action_response_time": max(actions) if actions else None,
        "total_responded_to": n,
        "broke_sla": broke,
        "broke_action_sla": broke_action,
        "avg_response_time_min": mean / 60 if mean is not None else None,
        "avg_action_response_time_min": action_mean / 60 if action_mean is not None else None,
        "fraction_responded_to": _fraction(n, assigned),
        "fraction_responded_to_in_private": _fraction(private, n),
        "fraction_broke_sla": _fraction(broke, n),
        "fraction_broke_action_sla": _fraction(broke_action, n),
        "median_response_time": _quantile(responses, 0.5) if n else None,
        "p90_response_time": _quantile(responses, 0.9) if n else None,
        "median_action_response_time": _quantile(actions, 0.5) if actions else None,
        "p90_action_response_time": _quantile(actions, 0.9) if actions else None,
    }


def _assert_rows(found: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert [row["user_id"] for row in found] == [row["user_id"] for row in expected]
    for row, wanted in zip(found, expected, strict=True):
        assert list(row) == SUMMARY_KEYS
        assert row == pytest.approx(wanted), row["first_name"]


class Office:
    """Four agents and their mentions: Ann answers most of her own and one of Bob's, Bob
    answers one of his, Dee answers a mention nobody holds, Cal has only an old one."""

    def __init__(self, database: Database, team: People) -> None:
        self.desk = team.group("Desk")
        self.ann = team.agent("Ann")
        self.bob = team.agent("Bob", groups=[self.desk])
        self.cal = team.agent("Cal")
        self.dee = team.agent("Dee")
        ann, bob = self.ann, self.bob
        # (state, assignee, assigned after, first responder, responded after, source type)
        timelines = [
            # Ann: four assigned, three answered by her (one by email, one late on both clocks).
            ("responded", ann, 600, ann, 1800, "twitter"),
            ("closed", ann, 1800, ann, 10800, "email"),
            ("closed_thread", ann, 60, ann, 960, "twitter"),
            ("assigned", ann, 120, None, None, "twitter"),
            # Bob: two assigned; Ann answered one of them first, he answered the other.
            ("responded", bob, 300, ann, 600, "twitter"),
            ("irrelevant", bob, 60, bob, 7300, "twitter_dm"),
        ]
        for state, assignee, assigned, responder, responded, source in timelines:
            _mention(
                database,
                state=state,
                assignee=assignee,
                assigned_after=assigned,
                responder=responder,
                responded_after=responded,
                source_type=source,
            )
        # Dee answered a mention left in the desk's queue, never assigned to anyone.
        _mention(
            database, state="responded", group=self.desk, responder=self.dee, responded_after=5000
        )
        # Nobody holds this one; Cal's is before the window.
        _mention(database, state="new")
        _mention(
            database, at=datetime(2026, 10, 20, tzinfo=UTC), state="assigned", assignee=self.cal
        )

    def ann_row(self) -> dict[str, Any]:
        """Ann's user_summary row."""
        responses = [1800, 10800, 960, 600]
        actions = [1200, 9000, 900, 300]
        return _expected_summary(self.ann, "Ann", 4, responses, actions, private=1)

    def bob_row(self) -> dict[str, Any]:
        """Bob's user_summary row."""
        return _expected_summary(self.bob, "Bob", 2, [7300], [7240], private=1)

    def dee_row(self) -> dict[str, Any]:
        """Dee's: answered without being assigned, so no action time."""
        return _expected_summary(self.dee, "Dee", 0, [5000], [], private=0)


@pytest.fixture
def office(database: Database, team: People) -> Office:
    """The four agents' mentions."""
    return Office(database, team)


def test_user_summary_rows_in_the_documented_order_with_every_figure(
    client: TestClient, token: str, office: Office
) -> None:
    found = _report(client, token, "user_summary")
    _assert_rows(found, [office.ann_row(), office.bob_row(), office.dee_row()])
    assert all(isinstance(row["user_id"], str) for row in found)
    dee = found[2]
    # Nothing assigned: no fraction of it; nothing private: a true zero over one response.
    assert dee["fraction_responded_to"] is None
    assert dee["fraction_responded_to_in_private"] == 0.0
    assert dee["avg_action_response_time"] is None
    assert dee["median_action_response_time"] is None


def test_user_summary_counts_private_responses_and_breaches_over_the_responses(
    client: TestClient, token: str, office: Office
) -> None:
    ann = _report(client, token, "user_summary")[0]
    assert ann["first_name"] == "Ann"
    assert ann["responded_to_in_private"] == 1
    assert ann["fraction_responded_to_in_private"] == pytest.approx(1 / 4)
    # 10800 s to answer, 9000 s after being assigned: late on both clocks.
    assert (ann["broke_sla"], ann["broke_action_sla"]) == (1, 1)
    assert ann["fraction_broke_sla"] == pytest.approx(1 / 4)
    assert ann["fraction_responded_to"] == pytest.approx(4 / 4)


def test_an_agent_with_assigned_but_no_answered_mentions_has_null_fractions(
    client: TestClient, token: str, database: Database, team: People
) -> None:
    eve = team.agent("Eve")
    _mention(database, state="assigned", assignee=eve, assigned_after=60)
    _mention(database, state="closed", assignee=eve, assigned_after=60)
    (row,) = _report(client, token, "user_summary")
    assert row == _expected_summary(eve, "Eve", 2, [], [], private=0)
    assert row["fraction_responded_to"] == 0.0
    assert row["fraction_broke_sla"] is None
    assert row["fraction_responded_to_in_private"] is None
    assert row["avg_response_time"] is None


def test_user_volume_counts_each_agents_mentions_by_current_state(
    client: TestClient, token: str, office: Office
) -> None:
    found = _report(client, token, "user_volume")
    assert [row["user_id"] for row in found] == [office.ann, office.bob]
    assert all(type(row["user_id"]) is int for row in found)
    for row in found:
        assert list(row) == VOLUME_KEYS
        assert list(row["states"]) == STATE_KEYS
    ann, bob = found
    assert (ann["first_name"], ann["last_name"]) == ("Ann", "Test")
    wanted_ann = dict.fromkeys(STATE_KEYS, 0)
    wanted_ann.update(responded=1, closed=1, closed_thread=1, assigned=1)
    # closed_thread is a closed state too.
    wanted_ann.update(all_states=4, all_closed_states=2)
    assert ann["states"] == wanted_ann
    wanted_bob = dict.fromkeys(STATE_KEYS, 0)
    wanted_bob.update(responded=1, irrelevant=1, all_states=2, all_closed_states=1)
    assert bob["states"] == wanted_bob


def test_user_volume_orders_ties_by_user_id(
    client: TestClient, token: str, database: Database, team: People
) -> None:
    first, second, third = team.agent("One"), team.agent("Two"), team.agent("Three")
    for agent in (third, first):
        _mention(database, state="assigned", assignee=agent)
    for state in ("no_response_required", "redirected", "duplicate"):
        _mention(database, state=state, assignee=second)
    found = _report(client, token, "user_volume")
    assert [row["user_id"] for row in found] == [second, first, third]
    assert found[0]["states"]["all_closed_states"] == 3
    assert found[0]["states"]["all_states"] == 3


def test_the_users_filter_restricts_rows_to_those_users(
    client: TestClient, token: str, office: Office
) -> None:
    # Bob's cohort includes the mention Ann answered; only Bob has a row all the same.
    found = _report(client, token, "user_summary", users=[office.bob])
    _assert_rows(found, [office.bob_row()])
    volume = _report(client, token, "user_volume", users=[office.bob])
    assert [row["user_id"] for row in volume] == [office.bob]
    both = _report(client, token, "user_summary", users=[office.ann, office.dee])
    _assert_rows(both, [office.ann_row(), office.dee_row()])


def test_the_groups_filter_restricts_rows_to_the_groups_members(
    client: TestClient, token: str, office: Office
) -> None:
    # Dee answered a mention of the desk's queue but is not a member; Bob is.
    found = _report(client, token, "user_summary", groups=[office.desk])
    _assert_rows(found, [office.bob_row()])
    volume = _report(client, token, "user_volume", groups=[office.desk])
    assert [row["user_id"] for row in volume] == [office.bob]


def test_no_data_is_an_empty_list(client: TestClient, token: str, office: Office) -> None:
    window = {"date_from": "2026-11-21", "date_to": "2026-11-22"}
    assert _report(client, token, "user_summary", **window) == []
    assert _report(client, token, "user_volume", **window) == []
    assert _report(client, token, "user_summary", users=[office.cal]) == []


def test_the_reports_need_the_activity_scope(
    client: TestClient, database: Database, office: Office
) -> None:
    other = make_token(database, "inbox:read", name="inbox")
    body = {"type": "user_summary", "date_from": "2026-11-01", "date_to": "2026-11-23"}
    answer = client.post("/v1/activity/reports", json=body, headers={"Auth-Api-Token": other})
    assert answer.status_code == 403


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback webhook receiver taking the replies the channel posts."""
    running = RunningReceiver("whsec_team-reports-receiver-0123456789")
    yield running.state
    running.stop()


def test_a_reply_sent_through_the_inbox_counts_in_user_summary(
    client: TestClient,
    token: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    team: People,
    receiver: Receiver,
) -> None:
    agent = team.agent("Fay")
    published = clock.now - timedelta(minutes=40)
    with database.unit_of_work() as session:
        mention_id = make_mention(session, published_at=published, source_type="email").id
    with database.unit_of_work() as session:
        response_id = replies.draft(session, mention_id, agent, "On its way", clock.now).id
        replies.submit(session, response_id, agent, clock.now)
    clock.advance(300)
    run_replies(database, settings, clock, LoopbackChannel(receiver))
    with database.unit_of_work(write=False) as session:
        sent_at = session.scalars(select(Response.sent_at).where(Response.id == response_id)).one()
        mention = session.get(Mention, mention_id)
        assert mention is not None
        assert mention.first_responder_id == agent
        assert mention.assigned_at is not None
        assigned_at = _aware(mention.assigned_at)
    assert sent_at is not None
    waited = (_aware(sent_at) - published).total_seconds()
    # Answering an unassigned mention assigns it to the responder (the agent's clock starts
    # then).
    acted = (_aware(sent_at) - assigned_at).total_seconds()
    (row,) = _report(client, token, "user_summary")
    assert row == pytest.approx(_expected_summary(agent, "Fay", 1, [waited], [acted], private=1))
    assert row["responded_to"] == 1


def test_volume_states_sums_closed_states_in_workflow_order() -> None:
    states = volume_states({"closed_thread": 2, "new": 1, "duplicate": 3})
    assert list(states) == STATE_KEYS
    assert states["all_states"] == 6
    assert states["all_closed_states"] == 5
    assert sum(states[s] for s in CLOSED | {"closed_thread"}) == 5
