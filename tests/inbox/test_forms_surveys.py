"""Answering surveys on both engines: a one-time link takes one answer (also when two arrive
at once), scores are integers 0-10 with a message beside the question otherwise, expired and
unknown links and archived forms are 410 pages, the public form_url takes any number of
answers, the pages are CSRF-guarded, and forgetting the profile keeps the score and drops the
comment."""

from __future__ import annotations

import html
import re
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.db.session import Database
from carebase.errors import FormAnswered, SurveyClosed, ValidationFailed
from carebase.inbox import forms, surveys
from carebase.models import FormInvitation, FormResponse
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import Brand, auth, ticket
from tests.inbox.forms_helpers import (
    csrf_of,
    make_agent,
    make_case,
    make_form,
    make_group,
    make_link,
    open_page,
    post_answer,
)
from tests.web.console import BASE_URL, field_errors


def _responses(database: Database) -> list[FormResponse]:
    with database.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(FormResponse).order_by(FormResponse.answered_at)))
        session.expunge_all()
    return rows


def _text(page: object) -> str:
    return html.unescape(re.sub(r"\s+", " ", getattr(page, "text", "")))


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
    ],
)
def test_nps_categories(score: int, category: str) -> None:
    assert forms.nps_category(score) == category


def test_scores_are_whole_numbers_from_0_to_10() -> None:
    assert [surveys.parse_score(str(n)) for n in range(11)] == list(range(11))
    assert surveys.parse_score(" 7 ") == 7
    for raw in ("", None, "11", "-1", "9.5", "07", "1e1", "nine", "\u0661"):
        with pytest.raises(ValidationFailed) as refused:
            surveys.parse_score(raw)
        assert refused.value.details == [{"field": "score", "reason": surveys.SCORE_REASON}]
    for value in (11, -1, 9.5, True, "9", None):
        with pytest.raises(ValidationFailed):
            surveys.check_score(value)


def test_a_link_is_answered_once(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    team = make_group(database, clock.now, "Care")
    agent = make_agent(database, settings, clock.now, groups=[team])
    case_id = make_case(database, clock.now, agent_id=agent)
    form_id = make_form(database, clock.now, title="How did Acme do?")
    token = make_link(database, clock.now, form_id, case_id)
    path = f"/f/{token}"

    page = open_page(client, path)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    text = _text(page)
    assert "How did Acme do?" in text
    assert "How likely are you to recommend us to a friend or colleague?" in text
    assert "What is the main reason for your score?" in text
    assert len(re.findall(r'type="radio" id="score-\d+" name="score"', page.text)) == 11

    clock.advance(120)
    answered = post_answer(client, path, score="9", comment="  Quick and kind.  ")
    assert answered.status_code == 200
    assert "Thank you! Your answer has been recorded." in _text(answered)
    [row] = _responses(database)
    assert (row.form_id, row.case_id, row.agent_id, row.group_ids) == (
        form_id,
        case_id,
        agent,
        [team],
    )
    assert (row.score, row.comment, row.answered_at) == (9, "Quick and kind.", clock.now)

    again = post_answer(client, path, score="2")
    assert again.status_code == 409
    assert "This survey has been answered already." in _text(again)
    reopened = open_page(client, path)
    assert reopened.status_code == 200
    assert "answered already" in _text(reopened)
    assert 'name="score"' not in reopened.text
    assert [r.score for r in _responses(database)] == [9]
    with pytest.raises(FormAnswered), database.unit_of_work() as session:
        surveys.answer(session, token, 5, None, clock.now)


def test_a_bad_score_is_a_message_beside_the_question(
    client: TestClient, database: Database, clock: FakeClock
) -> None:
    case_id = make_case(database, clock.now, agent_id=None)
    form_id = make_form(database, clock.now)
    path = f"/f/{make_link(database, clock.now, form_id, case_id)}"

    for fields in ({}, {"score": ""}, {"score": "11"}, {"score": "-3"}, {"score": "8.5"}):
        refused = post_answer(client, path, comment="kept", **fields)
        assert refused.status_code == 422, fields
        assert field_errors(refused) == {"score": "Choose a score from 0 to 10."}
        assert 'aria-invalid="true" aria-describedby="score-hint score-error"' in refused.text
        # What was typed stays.
        assert ">kept</textarea>" in refused.text
    too_long = post_answer(client, path, score="5", comment="x" * 5001)
    assert too_long.status_code == 422
    assert field_errors(too_long) == {"comment": "Use at most 5000 characters."}
    assert _responses(database) == []
    # The link still works after the mistakes.
    assert post_answer(client, path, score="0").status_code == 200
    assert [r.score for r in _responses(database)] == [0]


def test_expired_and_unknown_links_and_archived_forms_are_closed(
    client: TestClient, database: Database, clock: FakeClock
) -> None:
    case_id = make_case(database, clock.now, agent_id=None)
    other_case = make_case(database, clock.now, agent_id=None)
    form_id = make_form(database, clock.now)
    path = f"/f/{make_link(database, clock.now, form_id, case_id)}"

    clock.advance(30 * 86400 - 1)
    assert open_page(client, path).status_code == 200
    clock.advance(1)
    expired = open_page(client, path)
    assert expired.status_code == 410
    assert "This survey link has expired." in _text(expired)
    late = post_answer(client, path, score="10")
    assert late.status_code == 410
    assert _responses(database) == []

    unknown = open_page(client, "/f/" + "A" * 43)
    assert unknown.status_code == 410
    assert "This survey link is not valid." in _text(unknown)
    assert open_page(client, "/f/not-a-token").status_code == 410
    assert open_page(client, "/f/" + "x" * 101).status_code == 422

    fresh = f"/f/{make_link(database, clock.now, form_id, other_case)}"
    with database.unit_of_work() as session:
        forms.archive_form(session, form_id, now=clock.now)
    closed = post_answer(client, fresh, score="10")
    assert closed.status_code == 410
    assert "This survey is closed." in _text(closed)
    with database.unit_of_work() as session:
        forms.restore_form(session, form_id, now=clock.now)
    assert post_answer(client, fresh, score="10").status_code == 200


def test_the_public_form_url_takes_answers(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    form_id = make_form(database, clock.now, nps=False, title="Rate the event", comment_prompt="")
    with database.unit_of_work(write=False) as session:
        url = forms.form_url(settings.base_url, forms.get_form(session, form_id))
    path = url.removeprefix(settings.base_url)

    page = open_page(client, path)
    assert page.status_code == 200
    assert "How would you rate your experience with us?" in _text(page)
    assert "Anything you would like to tell us?" in _text(page)
    assert post_answer(client, path, score="4").status_code == 200
    assert post_answer(client, path, score="10", comment="Loved it").status_code == 200
    rows = _responses(database)
    assert [(r.score, r.comment, r.invitation_id, r.case_id) for r in rows] == [
        (4, None, None, None),
        (10, "Loved it", None, None),
    ]
    bad = post_answer(client, path, score="ten")
    assert bad.status_code == 422
    assert field_errors(bad) == {"score": "Choose a score from 0 to 10."}

    assert open_page(client, "/forms/unknown-key").status_code == 404
    assert post_answer(client, "/forms/unknown-key", score="5").status_code == 404
    with database.unit_of_work() as session:
        forms.archive_form(session, form_id, now=clock.now)
    assert open_page(client, path).status_code == 410
    assert post_answer(client, path, score="5").status_code == 410
    assert len(_responses(database)) == 2


def test_survey_forms_are_csrf_guarded(
    client: TestClient, database: Database, clock: FakeClock
) -> None:
    case_id = make_case(database, clock.now, agent_id=None)
    form_id = make_form(database, clock.now)
    path = f"{BASE_URL}/f/{make_link(database, clock.now, form_id, case_id)}"
    token = csrf_of(client)
    same = {"Sec-Fetch-Site": "same-origin"}

    assert client.post(path, data={"score": "9"}, headers=same).status_code == 403
    forged = client.post(path, data={"score": "9", "csrf_token": "x" * 43}, headers=same)
    assert forged.status_code == 403
    elsewhere = {"Sec-Fetch-Site": "cross-site"}
    cross = client.post(path, data={"score": "9", "csrf_token": token}, headers=elsewhere)
    assert cross.status_code == 403
    assert client.post(path, json={"score": 9}, headers=same).status_code in {403, 415}
    assert _responses(database) == []
    assert (
        client.post(path, data={"score": "9", "csrf_token": token}, headers=same).status_code == 200
    )


def test_two_answers_at_once_keep_exactly_one(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    agent = make_agent(database, settings, clock.now)
    case_id = make_case(database, clock.now, agent_id=agent)
    form_id = make_form(database, clock.now)
    token = make_link(database, clock.now, form_id, case_id)
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with database.unit_of_work() as session:
                surveys.answer(session, token, 1, "second", clock.now)
            outcome["second"] = "answered"
        except FormAnswered:
            outcome["second"] = "refused"

    # The first answer holds its transaction open while the second tries: on PostgreSQL the
    # second waits on the invitation's row lock, on SQLite for the write lock; either way it
    # then finds the link answered.
    with database.unit_of_work() as session:
        surveys.answer(session, token, 10, "first", clock.now)
        racer = threading.Thread(target=second)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive(), outcome
    racer.join(timeout=30)
    assert outcome == {"second": "refused"}
    rows = _responses(database)
    assert [(r.score, r.comment) for r in rows] == [(10, "first")]


def test_many_answers_at_once_through_the_pages(
    client: TestClient, database: Database, clock: FakeClock
) -> None:
    case_id = make_case(database, clock.now, agent_id=None)
    form_id = make_form(database, clock.now)
    path = f"/f/{make_link(database, clock.now, form_id, case_id)}"
    start = threading.Barrier(4)
    statuses: list[int] = []
    lock = threading.Lock()

    token = csrf_of(client)

    def answer(score: int) -> None:
        start.wait()
        response = client.post(
            f"{BASE_URL}{path}",
            data={"score": str(score), "csrf_token": token},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert len(_responses(database)) == 1


def test_forgetting_the_profile_keeps_the_score_and_drops_the_comment(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock, admin_token: str
) -> None:
    brand = Brand(client, admin_token)
    brand.post("customer_support_ticket", ticket("T-1", link={"email": "jane@example.org"}))
    profile_id = brand.profile("email", "jane@example.org")["id"]
    agent = make_agent(database, settings, clock.now)
    case_id = make_case(database, clock.now, agent_id=agent, profile_id=profile_id)
    form_id = make_form(database, clock.now)
    token = make_link(database, clock.now, form_id, case_id)
    assert (
        post_answer(client, f"/f/{token}", score="3", comment="Jane here, call me").status_code
        == 200
    )
    [row] = _responses(database)
    assert (row.profile_id, row.comment) == (profile_id, "Jane here, call me")

    forgotten = client.delete(f"/v1/profiles/{profile_id}", headers=auth(admin_token))
    assert forgotten.status_code == 200, forgotten.text
    [row] = _responses(database)
    assert (row.profile_id, row.comment, row.score, row.case_id) == (None, None, 3, case_id)
    with database.unit_of_work(write=False) as session:
        [invitation] = session.scalars(select(FormInvitation)).all()
        assert invitation.profile_id is None
    listed = client.get(f"/v1/forms/{form_id}/responses", headers=auth(admin_token)).json()
    assert [(r["score"], r["nps_category"], r["comment"]) for r in listed["items"]] == [
        (3, "detractor", None)
    ]


def test_answering_through_the_service_checks_everything(
    database: Database, clock: FakeClock
) -> None:
    case_id = make_case(database, clock.now, agent_id=None)
    form_id = make_form(database, clock.now)
    token = make_link(database, clock.now, form_id, case_id)
    with database.unit_of_work() as session:
        with pytest.raises(ValidationFailed):
            surveys.answer(session, token, 11, None, clock.now)
        with pytest.raises(ValidationFailed):
            surveys.answer(session, token, 5, "bad\x00", clock.now)
        with pytest.raises(SurveyClosed):
            surveys.answer(session, "A" * 43, 5, None, clock.now)
        response = surveys.answer(session, token, 5, "   ", clock.now)
        assert (response.score, response.comment) == (5, None)
