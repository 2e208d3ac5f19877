"""A day (and a bit) of inbox work, end to end on both engines, through the public API, the
console and the customer's survey page — and then the stored events, cases, SLA measures and
survey answers must say exactly what happened, to the second.

09:00  three messages arrive in one batch: Kim's parcel (a rule classifies it Delivery), Lee's
       refund (a rule classifies it Refunds and assigns it to Ben), and a no-reply robot
       (an ignored sender: irrelevant).
09:05  Ana goes online; 09:10 she claims Kim's message in the console.
09:20  Ana drafts a reply; 09:25 submits it — her group needs approval.
09:40  Max approves it in the console; the reply job delivers it to the reply webhook.
10:00  Ana closes Kim's message.
12:00  Ben answers Lee (no approval in his group) — an hour past the customer SLA.
12:30  Kim gets the survey link and answers 9 on the public page.
17:00  Ana signs out (offline).
+1 day 09:41  the case-close job closes Kim's case (24 h after the reply, all closed).
+30 h  Kim writes again: Ana is offline, so it waits in New; it is not in the closed case.
       Ben claims it and answers: a second case for Kim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner
from carebase.settings import Settings
from tests.conftest import FakeClock, make_token, test_settings
from tests.console_session import ConsoleUser, create_signed_in
from tests.inbox.conftest import People
from tests.inbox.forms_helpers import csrf_of
from tests.inbox.replies_helpers import ReplyHook, use_reply_hook
from tests.web.console import BASE_URL, console, signed_in_as

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings that let the reply webhook post to a loopback address."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def hook() -> Iterator[ReplyHook]:
    """The brand's reply webhook, on a loopback port."""
    running = ReplyHook("whsec_scenario-reply-hook-0123456789abcdef")
    yield running
    running.stop()


def _at(day_start: datetime, hhmm: str, days: int = 0) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return day_start + timedelta(days=days, hours=hours, minutes=minutes)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Day:
    """The scenario's moving parts: the clock, the API client with its tokens, the worker."""

    def __init__(
        self,
        app: FastAPI,
        client: TestClient,
        database: Database,
        settings: Settings,
        clock: FakeClock,
    ) -> None:
        self.app, self.client, self.database = app, client, database
        self.settings, self.clock = settings, clock
        # The scenario's day starts at midnight (the fake clock starts at noon).
        clock.now = clock.now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.admin = {"Authorization": f"Bearer {make_token(database, 'admin')}"}
        self.inbox = {
            "Authorization": f"Bearer {make_token(database, 'inbox:read', 'inbox:write')}"
        }
        self.day = clock.now.replace(hour=0, minute=0, second=0, microsecond=0)

    def at(self, hhmm: str, days: int = 0) -> datetime:
        """Move the clock to that time of the scenario's first day (or a later one)."""
        moment = _at(self.day, hhmm, days)
        assert moment >= self.clock.now, "the scenario only moves forward"
        self.clock.now = moment
        return moment

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """An inbox API call that must succeed; its JSON."""
        answer = self.client.request(method, path, headers=self.inbox, **kwargs)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    def work(self) -> None:
        """Run every job due now (reply sends, case-close checks), as a worker would."""
        Runner(self.database, registry(self.settings), clock=self.clock).run_due()

    def events(self, mention_id: str) -> list[tuple[str, str, str | None, str | None, str]]:
        """A mention's events as (time, kind, from, to, actor)."""
        events = self.api("GET", f"/v1/mentions/{mention_id}/events")
        items = events["items"] if isinstance(events, dict) else events
        return [
            (
                item["at"].replace("+00:00", "Z"),
                item["kind"],
                item["from_value"],
                item["to_value"],
                item["actor"]["type"],
            )
            for item in items
        ]


def test_a_day_of_inbox_work_leaves_exact_events_cases_sla_and_nps(
    app: FastAPI,
    client: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    people: People,
    hook: ReplyHook,
) -> None:
    day = Day(app, client, database, settings, clock)
    day.at("08:00")

    # The team: Ana is a trainee (her replies need approval), Ben is not; Max manages.
    ana: ConsoleUser = create_signed_in(
        database, settings, email="ana@brand.io", first_name="Ana", now=clock.now
    )
    max_: ConsoleUser = create_signed_in(
        database, settings, email="max@brand.io", first_name="Max", role="manager", now=clock.now
    )
    ben = people.agent("Ben")
    people.group("Trainees", members=[ana.id], requires_approval=True)
    people.group("Care", members=[ben])

    # The inbox's set-up, through the API.
    delivery = day.api(
        "POST", "/v1/classifications", json={"name": "Delivery", "colour": "#1f77b4"}
    )
    refunds = day.api("POST", "/v1/classifications", json={"name": "Refunds", "colour": "#d62728"})
    queue = day.api("GET", "/v1/queues")
    queue_id = (queue["items"] if isinstance(queue, dict) else queue)[0]["id"]
    day.api(
        "POST",
        "/v1/rules",
        json={
            "queue_id": queue_id,
            "name": "Refunds go to Ben",
            "conditions": {"terms": ["refund"]},
            "actions": {"classify": [refunds["id"]], "assign": {"user_id": ben}},
            "enabled": True,
        },
    )
    day.api(
        "POST",
        "/v1/rules",
        json={
            "queue_id": queue_id,
            "name": "Parcels are deliveries",
            "conditions": {"terms": ["parcel"]},
            "actions": {"classify": [delivery["id"]]},
            "enabled": True,
        },
    )
    day.api("POST", "/v1/ignored-senders", json={"pattern": "*@noreply.example.com"})
    use_reply_hook(database, settings, hook, clock.now)
    form = day.api(
        "POST", "/v1/forms", json={"name": "NPS", "title": "How did we do?", "nps": True}
    )
    day.api("PATCH", "/v1/inbox/settings", json={"nps_form_id": form["id"]})
    dataset = client.post(
        "/v1/datasets", headers=day.admin, json={"name": "Social", "record_type": "mention"}
    )
    assert dataset.status_code == 201, dataset.text
    dataset_id = dataset.json()["id"]
    ingest = {"Authorization": f"Bearer {make_token(database, f'ingest:{dataset_id}')}"}

    # 09:00 — three messages in one batch.
    t0900 = day.at("09:00")
    batch = [
        {
            "mention_id": "tw-1",
            "source_type": "twitter",
            "account": "@acme_help",
            "author": {"id": "twitter_kim", "username": "@kim", "fullname": "Kim Lee"},
            "link": {"email": "kim@example.org"},
            "text": "My parcel never arrived",
            "published_at": _iso(t0900),
        },
        {
            "mention_id": "tw-2",
            "source_type": "twitter",
            "author": {"id": "twitter_lee", "username": "@lee"},
            "link": {"email": "lee@example.org"},
            "text": "I want a refund for order 1234",
            "published_at": _iso(t0900),
        },
        {
            "mention_id": "em-3",
            "source_type": "email",
            "author": {"id": "robot@noreply.example.com"},
            "text": "Your invoice is ready",
            "published_at": _iso(t0900),
        },
    ]
    sent = client.post(f"/v1/datasets/{dataset_id}/mention", headers=ingest, json=batch)
    assert sent.status_code < 300, sent.text
    listed = day.api("GET", "/v1/mentions", params={"tab": "all"})["items"]
    by_text = {item["body"]: item for item in listed}
    kim = by_text["My parcel never arrived"]
    lee = by_text["I want a refund for order 1234"]
    robot = by_text["Your invoice is ready"]
    assert (kim["state"], kim["assignee_id"]) == ("new", None)
    assert (lee["state"], lee["assignee_id"]) == ("assigned", ben)
    assert robot["state"] == "irrelevant"
    kim_profile = kim["profile_id"]
    assert kim_profile is not None

    # 09:05 — Ana goes online; 09:10 she claims Kim's message in the console.
    day.at("09:05")
    with console(app) as browser:
        signed_in_as(browser, ana)
        online = browser.post("/inbox/presence", data={"online": "1"})
        assert online.status_code == 303, online.text[:2000]
        assert day.api("GET", f"/v1/presence/{ana.id}")["online"] is True
        day.at("09:10")
        claimed = browser.post(f"/inbox/m/{kim['id']}/claim", data={"csrf_token": ana.csrf_token})
        assert claimed.status_code in {200, 303}, claimed.text[:2000]

    # 09:20 — Ana drafts a reply; 09:25 she submits it: it waits for approval.
    day.at("09:20")
    draft = day.api(
        "POST",
        f"/v1/mentions/{kim['id']}/responses",
        json={"user_id": ana.id, "body": "Sorry Kim! It ships again today."},
    )
    day.at("09:25")
    assert (
        day.api("POST", f"/v1/responses/{draft['id']}/submit", json={"user_id": ana.id})["status"]
        == "awaiting_approval"
    )
    day.work()
    assert hook.replies == {}, "nothing leaves before a manager approves"

    # 09:40 — Max approves in the console; the worker delivers the reply.
    day.at("09:40")
    with console(app) as browser:
        signed_in_as(browser, max_)
        approved = browser.post(
            f"/inbox/responses/{draft['id']}/approve", data={"csrf_token": max_.csrf_token}
        )
        assert approved.status_code in {200, 303}, approved.text[:2000]
    day.work()
    assert [reply["body"] for reply in hook.replies.values()] == [
        "Sorry Kim! It ships again today."
    ]
    assert day.api("GET", f"/v1/responses/{draft['id']}")["status"] == "sent"

    # 10:00 — Ana closes it.
    day.at("10:00")
    day.api("POST", f"/v1/mentions/{kim['id']}/state", json={"user_id": ana.id, "state": "closed"})

    # 12:00 — Ben answers Lee straight away (his group needs no approval), then closes it.
    day.at("12:00")
    bens = day.api(
        "POST",
        f"/v1/mentions/{lee['id']}/responses",
        json={"user_id": ben, "body": "Refund on its way."},
    )
    day.api("POST", f"/v1/responses/{bens['id']}/submit", json={"user_id": ben})
    day.work()
    day.at("12:05")
    day.api("POST", f"/v1/mentions/{lee['id']}/state", json={"user_id": ben, "state": "closed"})

    # The event log says exactly what happened to Kim's message, and who did it.
    # (The received event names the queue; approval ends the wait for approval at once, and
    # the reply is in progress until the channel has it.)
    assert day.events(kim["id"]) == [
        ("2026-11-23T09:00:00Z", "received", None, queue_id, "system"),
        ("2026-11-23T09:00:00Z", "classify", None, str(delivery["id"]), "rule"),
        ("2026-11-23T09:10:00Z", "assign", None, str(ana.id), "user"),
        ("2026-11-23T09:10:00Z", "state", "new", "assigned", "user"),
        ("2026-11-23T09:20:00Z", "state", "assigned", "in_progress", "user"),
        ("2026-11-23T09:25:00Z", "state", "in_progress", "awaiting_approval", "user"),
        ("2026-11-23T09:40:00Z", "state", "awaiting_approval", "in_progress", "user"),
        ("2026-11-23T09:40:00Z", "state", "in_progress", "responded", "user"),
        ("2026-11-23T09:40:00Z", "case", None, "opened", "system"),
        ("2026-11-23T09:40:00Z", "response", None, draft["id"], "user"),
        ("2026-11-23T10:00:00Z", "state", "responded", "closed", "user"),
    ]

    # SLA: Kim waited 40 minutes (10 in the queue, 30 for Ana): within both; Lee waited 3
    # hours, all of it assigned to Ben: both SLAs (2 h) broken.
    kim_sla = day.api("GET", f"/v1/mentions/{kim['id']}/sla")
    spans = ("in_queue_seconds", "action_seconds", "customer_wait_seconds")
    assert tuple(kim_sla[span] for span in spans) == (600, 1800, 2400)
    assert (kim_sla["within_customer_sla"], kim_sla["within_agent_sla"]) == (True, True)
    lee_sla = day.api("GET", f"/v1/mentions/{lee['id']}/sla")
    assert tuple(lee_sla[span] for span in spans) == (0, 10800, 10800)
    assert (lee_sla["within_customer_sla"], lee_sla["within_agent_sla"]) == (False, False)

    # 12:30 — Kim's case gets the survey; Kim answers 9 on the public page.
    day.at("12:30")
    cases = day.api("GET", "/v1/cases", params={"profile_id": kim_profile})["items"]
    assert len(cases) == 1
    first_case = cases[0]
    assert (first_case["status"], first_case["opened_at"], first_case["first_reply_at"]) == (
        "open",
        "2026-11-23T09:00:00Z",
        "2026-11-23T09:40:00Z",
    )
    survey = day.api("POST", f"/v1/cases/{first_case['id']}/survey", json={"user_id": ana.id})
    path = survey["url"].split("://", 1)[1].split("/", 1)[1]
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as customer:
        token = csrf_of(customer)
        page = customer.get(f"{BASE_URL}/{path}")
        assert page.status_code == 200
        answered = customer.post(
            f"{BASE_URL}/{path}",
            data={"score": "9", "comment": "Quick and kind", "csrf_token": token},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        assert answered.status_code == 200, answered.text[:2000]
        again = customer.post(
            f"{BASE_URL}/{path}",
            data={"score": "2", "csrf_token": token},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        assert again.status_code == 409

    # 17:00 — Ana signs out of the console: offline.
    day.at("17:00")
    with console(app) as browser:
        signed_in_as(browser, ana)
        assert browser.post("/sign-out").status_code == 303
    assert day.api("GET", f"/v1/presence/{ana.id}")["online"] is False

    # The next day, 09:41 — 24 h after the last activity (Ana's reply at 09:40; closing a
    # message is not activity), with every message closed, the case-close job closes it.
    day.at("09:39", days=1)
    day.work()
    assert day.api("GET", f"/v1/cases/{first_case['id']}")["status"] == "open"
    day.at("09:41", days=1)
    day.work()
    closed = day.api("GET", f"/v1/cases/{first_case['id']}")
    assert closed["status"] == "closed"

    # 30 hours after her first message Kim writes again: Ana (who answered last) is offline,
    # so it waits in New; no case until someone answers, and not the closed one.
    back_at = day.at("15:00", days=1)
    assert back_at - t0900 == timedelta(hours=30)
    again_batch = [
        {
            "mention_id": "tw-4",
            "source_type": "twitter",
            "author": {"id": "twitter_kim", "username": "@kim", "fullname": "Kim Lee"},
            "link": {"email": "kim@example.org"},
            "text": "Still no parcel!",
            "published_at": _iso(back_at),
        }
    ]
    resent = client.post(f"/v1/datasets/{dataset_id}/mention", headers=ingest, json=again_batch)
    assert resent.status_code < 300, resent.text
    comeback = next(
        item
        for item in day.api("GET", "/v1/mentions", params={"tab": "new"})["items"]
        if item["body"] == "Still no parcel!"
    )
    assert (comeback["state"], comeback["assignee_id"], comeback["case_id"]) == ("new", None, None)

    # Ben claims it at 15:10 and answers at 15:30: Kim's second case.
    day.at("15:10", days=1)
    day.api("POST", f"/v1/mentions/{comeback['id']}/claim", json={"user_id": ben})
    day.at("15:30", days=1)
    second = day.api(
        "POST",
        f"/v1/mentions/{comeback['id']}/responses",
        json={"user_id": ben, "body": "Sending a new one today."},
    )
    day.api("POST", f"/v1/responses/{second['id']}/submit", json={"user_id": ben})
    day.work()
    cases = day.api("GET", "/v1/cases", params={"profile_id": kim_profile})["items"]
    assert sorted(
        (case["status"], case["opened_at"], case["first_reply_at"]) for case in cases
    ) == [
        ("closed", "2026-11-23T09:00:00Z", "2026-11-23T09:40:00Z"),
        ("open", "2026-11-24T15:00:00Z", "2026-11-24T15:30:00Z"),
    ]

    # The survey's one answer: a promoter, on Kim's first case, about Ana.
    answers = day.api("GET", f"/v1/forms/{form['id']}/responses")
    items = answers["items"] if isinstance(answers, dict) else answers
    assert [(a["score"], a["case_id"], a["agent_id"]) for a in items] == [
        (9, first_case["id"], ana.id)
    ]
