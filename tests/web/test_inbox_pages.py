"""The inbox console over HTTP, on both engines: the list's tabs and filters show the right
mentions with their counts and SLA clocks; claim, assign, state, follow-up, classify, reply,
submit and approve work as plain form posts (and as htmx fragments); a change the workflow
refuses is shown inline with its reason; bad input is a 4xx, never a 500; agents cannot
approve. The mention page's Survey section makes a case's one-time link per form, says a
second press cannot show it again and offers a new one, and refuses bad input inline."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.db.session import Database
from carebase.models import Classification, Mention, MentionClassification, Response
from carebase.models.users import Group, GroupMember
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.console_session import ConsoleUser
from tests.inbox.conftest import make_mention
from tests.web.console import toast

HTMX = {"HX-Request": "true", "HX-Target": "mention"}


def _label(database: Database, clock: FakeClock, name: str, *, archived: bool = False) -> int:
    with database.unit_of_work() as session:
        label = Classification(
            name=name,
            description="",
            colour="#1d5fbf",
            archived_at=clock.now if archived else None,
            created_at=clock.now,
            updated_at=clock.now,
        )
        session.add(label)
        session.flush()
        return label.id


def _mention(database: Database, **fields: object) -> str:
    with database.unit_of_work() as session:
        return make_mention(session, **fields).id


def _row(database: Database, mention_id: str) -> Mention:
    with database.unit_of_work(write=False) as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None
        session.expunge(mention)
        return mention


def _listed(response: httpx.Response) -> list[str]:
    return re.findall(r'<tr data-mention="([^"]+)">', response.text)


def _count(response: httpx.Response, label: str) -> int:
    found = re.search(re.escape(label) + r' <span class="count">(\d+)</span>', response.text)
    assert found is not None, label
    return int(found.group(1))


def _inline_refusal(response: httpx.Response, where: str) -> str:
    found = re.search(rf'id="refused-{where}">.*?<span>(.*?)</span>', response.text, flags=re.S)
    assert found is not None, response.text[:3000]
    return html.unescape(found.group(1))


def test_tabs_show_the_right_mentions_with_counts(
    agent: TestClient, database: Database, clock: FakeClock, people: dict[str, ConsoleUser]
) -> None:
    me = people["agent"].id
    waiting = _mention(database, body="Where is my parcel?", published_at=clock.now)
    mine = _mention(
        database,
        state="assigned",
        assignee_id=me,
        assigned_at=clock.now,
        published_at=clock.now + timedelta(minutes=1),
    )
    closed = _mention(database, state="closed", published_at=clock.now + timedelta(minutes=2))
    clock.advance(3 * 3600)

    new = agent.get("/inbox")
    assert new.status_code == 200
    assert _listed(new) == [waiting]
    assert "Where is my parcel?" in new.text
    assert _count(new, "New") == 1
    assert _count(new, "Mine") == 1
    assert _count(new, "All open") == 2
    assert _count(new, "Closed") == 1
    # The customer's two hours ran out an hour ago.
    assert "1 h overdue" in new.text

    assert _listed(agent.get("/inbox?tab=mine")) == [mine]
    assert _listed(agent.get("/inbox?tab=all")) == [waiting, mine]
    assert _listed(agent.get("/inbox?tab=closed")) == [closed]
    # A tab switch with htmx answers the list alone.
    fragment = agent.get(
        "/inbox?tab=mine", headers={"HX-Request": "true", "HX-Target": "inbox-list"}
    )
    assert fragment.text.lstrip().startswith('<div id="inbox-list"')
    assert _listed(fragment) == [mine]


def test_filters_narrow_the_list(agent: TestClient, database: Database, clock: FakeClock) -> None:
    label = _label(database, clock, "Billing")
    tweet = _mention(database, source_type="twitter")
    email = _mention(database, source_type="email")
    with database.unit_of_work() as session:
        session.add(
            MentionClassification(
                mention_id=email,
                classification_id=label,
                applied_by_type="user",
                applied_at=clock.now,
            )
        )
    assert _listed(agent.get("/inbox?source=twitter")) == [tweet]
    assert _listed(agent.get(f"/inbox?classification={label}")) == [email]
    assert _listed(agent.get("/inbox?assignee=0&source=&classification=")) == [tweet, email]
    # A value that is not a number is a 4xx naming the parameter, never a 500.
    wrong = agent.get("/inbox?classification=abc")
    assert wrong.status_code == 422
    assert "classification" in wrong.text
    assert agent.get("/inbox?tab=nonsense").status_code == 422


def test_claim_change_state_and_follow_up_as_plain_posts(
    agent: TestClient, database: Database, people: dict[str, ConsoleUser]
) -> None:
    mention_id = _mention(database)
    page = agent.get(f"/inbox/m/{mention_id}")
    assert page.status_code == 200
    assert "Where is my order" in page.text

    claimed = agent.post(f"/inbox/m/{mention_id}/claim")
    assert claimed.status_code == 303
    assert claimed.headers["location"] == f"/inbox/m/{mention_id}?done=claimed"
    row = _row(database, mention_id)
    assert (row.state, row.assignee_id) == ("assigned", people["agent"].id)
    assert toast(agent.get(claimed.headers["location"])) == "Claimed: it is yours now."

    moved = agent.post(f"/inbox/m/{mention_id}/state", data={"state": "in_progress"})
    assert moved.status_code == 303
    assert _row(database, mention_id).state == "in_progress"

    flagged = agent.post(f"/inbox/m/{mention_id}/follow-up", data={"flag": "1"})
    assert flagged.status_code == 303
    assert _row(database, mention_id).follow_up is True

    unassigned = agent.post(f"/inbox/m/{mention_id}/unassign")
    assert unassigned.status_code == 303
    row = _row(database, mention_id)
    assert (row.state, row.assignee_id) == ("new", None)


def test_only_allowed_states_are_offered_and_a_refusal_is_shown_inline(
    agent: TestClient, database: Database
) -> None:
    mention_id = _mention(database, state="awaiting_approval")
    page = agent.get(f"/inbox/m/{mention_id}")
    offered = re.findall(
        r'<option value="([a-z_]+)">', page.text.split('id="state-target"')[1].split("</select>")[0]
    )
    assert offered == ["in_progress", "responded"]

    refused = agent.post(f"/inbox/m/{mention_id}/state", data={"state": "closed"})
    assert refused.status_code == 409
    assert "approve or reject it first" in _inline_refusal(refused, "state")
    assert _row(database, mention_id).state == "awaiting_approval"

    # The same with htmx: the main column again, with the reason beside the control.
    again = agent.post(f"/inbox/m/{mention_id}/state", data={"state": "closed"}, headers=HTMX)
    assert again.status_code == 409
    assert again.text.lstrip().startswith('<div id="mention"')
    assert "approve or reject it first" in _inline_refusal(again, "state")


def test_a_stale_page_is_refused_inline(agent: TestClient, database: Database) -> None:
    mention_id = _mention(database)
    stale = agent.post(
        f"/inbox/m/{mention_id}/state", data={"state": "irrelevant", "version": "99"}
    )
    assert stale.status_code == 409
    assert "changed since" in _inline_refusal(stale, "state")


def test_classify_and_unclassify_archived_ones_not_offered(
    agent: TestClient, database: Database, clock: FakeClock
) -> None:
    billing = _label(database, clock, "Billing")
    old = _label(database, clock, "Old label", archived=True)
    mention_id = _mention(database)
    page = agent.get(f"/inbox/m/{mention_id}")
    picker = page.text.split('id="classify-with"')[1].split("</select>")[0]
    assert "Billing" in picker
    assert "Old label" not in picker

    added = agent.post(f"/inbox/m/{mention_id}/classify", data={"classification_id": str(billing)})
    assert added.status_code == 303
    with database.unit_of_work(write=False) as session:
        on = session.scalars(
            select(MentionClassification.classification_id).where(
                MentionClassification.mention_id == mention_id
            )
        ).all()
    assert list(on) == [billing]

    archived = agent.post(f"/inbox/m/{mention_id}/classify", data={"classification_id": str(old)})
    assert archived.status_code == 409
    assert _inline_refusal(archived, "classify")

    removed = agent.post(
        f"/inbox/m/{mention_id}/unclassify", data={"classification_id": str(billing)}
    )
    assert removed.status_code == 303
    with database.unit_of_work(write=False) as session:
        assert session.scalars(select(MentionClassification)).all() == []


def test_assign_to_a_colleague(
    agent: TestClient, database: Database, people: dict[str, ConsoleUser]
) -> None:
    mention_id = _mention(database)
    boss = people["manager"].id
    done = agent.post(f"/inbox/m/{mention_id}/assign", data={"assign_to": f"user:{boss}"})
    assert done.status_code == 303
    assert _row(database, mention_id).assignee_id == boss


def test_bad_input_is_a_4xx_never_a_500(agent: TestClient, database: Database) -> None:
    mention_id = _mention(database)
    cases = [
        (f"/inbox/m/{mention_id}/state", {"state": "bogus"}),
        (f"/inbox/m/{mention_id}/state", {"state": "in_progress", "version": "x"}),
        (f"/inbox/m/{mention_id}/assign", {"assign_to": "robot:1"}),
        (f"/inbox/m/{mention_id}/assign", {"assign_to": "user:999999"}),
        (f"/inbox/m/{mention_id}/classify", {"classification_id": "nine"}),
        (f"/inbox/m/{mention_id}/classify", {"classification_id": "424242"}),
        (f"/inbox/m/{mention_id}/follow-up", {"flag": "maybe"}),
        (f"/inbox/m/{mention_id}/reply", {"body": "   "}),
        (f"/inbox/m/{mention_id}/reply", {"body": "x" * 30_000}),
        (f"/inbox/m/{mention_id}/reply", {"body": "hi", "template_id": "tpl_nope"}),
        ("/inbox/m/men_nope/claim", {}),
        ("/inbox/bulk", {"action": "state", "state": "bogus", "ids": mention_id}),
        ("/inbox/bulk", {"action": "claim"}),
        ("/inbox/presence", {"online": "yes"}),
    ]
    for path, data in cases:
        answer = agent.post(path, data=data)
        assert 400 <= answer.status_code < 500, (path, data, answer.status_code)
    assert agent.get("/inbox/m/men_nope").status_code == 404
    assert _row(database, mention_id).state == "new"


def test_reply_then_submit_sends_it(
    agent: TestClient, database: Database, people: dict[str, ConsoleUser]
) -> None:
    mention_id = _mention(database)
    agent.post(f"/inbox/m/{mention_id}/claim")
    saved = agent.post(
        f"/inbox/m/{mention_id}/reply", data={"body": "Checking now.", "intent": "save"}
    )
    assert saved.status_code == 303
    page = agent.get(saved.headers["location"])
    assert ">Checking now.</textarea>" in page.text
    draft_id = re.search(r'name="response_id" value="(rsp_[^"]+)"', page.text)
    assert draft_id is not None

    sent = agent.post(
        f"/inbox/m/{mention_id}/reply",
        data={"body": "It ships today.", "intent": "send", "response_id": draft_id.group(1)},
    )
    assert sent.status_code == 303
    assert sent.headers["location"].endswith("done=submitted")
    with database.unit_of_work(write=False) as session:
        rows = session.scalars(select(Response).where(Response.mention_id == mention_id)).all()
    assert [(r.body, r.status, r.author_id) for r in rows] == [
        ("It ships today.", "sending", people["agent"].id)
    ]
    # The conversation shows it.
    assert "It ships today." in agent.get(f"/inbox/m/{mention_id}").text


def test_a_private_note_is_marked(agent: TestClient, database: Database) -> None:
    mention_id = _mention(database)
    noted = agent.post(
        f"/inbox/m/{mention_id}/reply", data={"body": "VIP, be kind.", "private": "1"}
    )
    assert noted.status_code == 303
    page = agent.get(f"/inbox/m/{mention_id}")
    assert "Private note" in page.text
    assert "message--note" in page.text
    with database.unit_of_work(write=False) as session:
        row = session.scalars(select(Response)).one()
    assert (row.private, row.status) == (True, "sent")


def _approval_group(database: Database, clock: FakeClock, user_id: int) -> None:
    with database.unit_of_work() as session:
        group = Group(
            name="Trainees",
            comment="",
            requires_approval=True,
            created_at=clock.now,
            updated_at=clock.now,
        )
        session.add(group)
        session.flush()
        session.add(GroupMember(group_id=group.id, user_id=user_id))


def test_manager_approves_and_agent_cannot(
    agent: TestClient,
    manager: TestClient,
    database: Database,
    clock: FakeClock,
    people: dict[str, ConsoleUser],
) -> None:
    _approval_group(database, clock, people["agent"].id)
    mention_id = _mention(database)
    agent.post(f"/inbox/m/{mention_id}/claim")
    submitted = agent.post(f"/inbox/m/{mention_id}/reply", data={"body": "Refund approved."})
    assert submitted.headers["location"].endswith("done=awaiting")
    assert _row(database, mention_id).state == "awaiting_approval"
    with database.unit_of_work(write=False) as session:
        response_id = session.scalars(select(Response.id)).one()

    # The agent sees it waiting but has no approve button, and a post is refused.
    page = agent.get(f"/inbox/m/{mention_id}")
    assert "A manager approves or rejects it." in page.text
    assert "Approve and send" not in page.text
    assert agent.post(f"/inbox/responses/{response_id}/approve").status_code == 403
    assert agent.get("/inbox/approvals").status_code == 403

    listed = manager.get("/inbox/approvals")
    assert listed.status_code == 200
    assert "Refund approved." in listed.text
    # Rejecting needs a comment.
    no_comment = manager.post(
        f"/inbox/responses/{response_id}/reject", data={"comment": " ", "back": "approvals"}
    )
    assert no_comment.status_code == 422
    approved = manager.post(f"/inbox/responses/{response_id}/approve", data={"back": "approvals"})
    assert approved.status_code == 303
    assert approved.headers["location"] == "/inbox/approvals?done=approved"
    with database.unit_of_work(write=False) as session:
        row = session.get(Response, response_id)
        assert row is not None
        assert (row.status, row.reviewed_by) == ("sending", people["manager"].id)
    assert "Nothing waits for approval." in manager.get("/inbox/approvals").text


def test_manager_rejects_with_a_comment_from_the_mention_page(
    agent: TestClient,
    manager: TestClient,
    database: Database,
    clock: FakeClock,
    people: dict[str, ConsoleUser],
) -> None:
    _approval_group(database, clock, people["agent"].id)
    mention_id = _mention(database)
    agent.post(f"/inbox/m/{mention_id}/claim")
    agent.post(f"/inbox/m/{mention_id}/reply", data={"body": "Sure, free stuff!"})
    with database.unit_of_work(write=False) as session:
        response_id = session.scalars(select(Response.id)).one()
    assert "Approve and send" in manager.get(f"/inbox/m/{mention_id}").text
    rejected = manager.post(
        f"/inbox/responses/{response_id}/reject", data={"comment": "Too generous."}
    )
    assert rejected.status_code == 303
    assert _row(database, mention_id).state == "in_progress"
    # The agent finds it back in the composer, with the reason in the conversation.
    page = agent.get(f"/inbox/m/{mention_id}")
    assert "Rejected: Too generous." in page.text
    assert ">Sure, free stuff!</textarea>" in page.text


def test_bulk_claims_and_lists_each_refusal(
    agent: TestClient, database: Database, clock: FakeClock, people: dict[str, ConsoleUser]
) -> None:
    first = _mention(database)
    second = _mention(database)
    waiting = _mention(database, state="awaiting_approval")
    answer = agent.post(
        "/inbox/bulk",
        data={
            "action": "state",
            "state": "irrelevant",
            "ids": [first, second, waiting],
            "f_tab": "all",
        },
    )
    assert answer.status_code == 200
    assert toast(answer) == "Done for 2 mentions. 1 refused (listed below)."
    assert waiting in answer.text.split('id="bulk-refused"')[1].split("</div>")[0]
    assert _row(database, first).state == "irrelevant"
    assert _row(database, waiting).state == "awaiting_approval"

    third = _mention(database)
    claimed = agent.post("/inbox/bulk", data={"action": "claim", "ids": [third]})
    assert claimed.status_code == 200
    assert _row(database, third).assignee_id == people["agent"].id


def test_presence_switch(
    agent: TestClient, database: Database, people: dict[str, ConsoleUser]
) -> None:
    assert "Go online" in agent.get("/inbox").text
    online = agent.post("/inbox/presence", data={"online": "1"})
    assert online.status_code == 303
    assert online.headers["location"] == "/inbox?done=online"
    assert toast(agent.get(online.headers["location"])).startswith("You are online")
    assert "Go offline" in agent.get("/inbox").text
    mention_id = _mention(database)
    agent.post(f"/inbox/m/{mention_id}/claim")
    offline = agent.post(
        "/inbox/presence",
        data={"online": "0"},
        headers={"HX-Request": "true", "HX-Target": "presence"},
    )
    assert offline.status_code == 200
    assert "1 claimed mention(s) went back to New." in offline.text
    assert _row(database, mention_id).state == "new"


def test_template_fills_the_composer(
    agent: TestClient, database: Database, clock: FakeClock
) -> None:
    from carebase.inbox import templates

    with database.unit_of_work() as session:
        template = templates.create_template(
            session, name="Thanks", body="Thanks for writing in!", group_ids=[], now=clock.now
        )
        template_id = template.id
    mention_id = _mention(database)
    page = agent.get(f"/inbox/m/{mention_id}?template_id={template_id}")
    assert ">Thanks for writing in!</textarea>" in page.text
    fragment = agent.get(
        f"/inbox/m/{mention_id}/composer?template_id={template_id}",
        headers={"HX-Request": "true", "HX-Target": "composer"},
    )
    assert fragment.text.lstrip().startswith('<section id="composer"')
    assert "Thanks for writing in!" in fragment.text


@pytest.mark.parametrize("path", ["/inbox", "/inbox/m/men_x", "/inbox/approvals"])
def test_pages_need_a_session(app: object, path: str) -> None:
    from tests.web.console import console

    with console(app) as client:  # type: ignore[arg-type]
        answer = client.get(path)
    assert answer.status_code in {303, 401}


def test_the_customers_profile_is_beside_the_mention(
    agent: TestClient, client: TestClient, admin_token: str, database: Database
) -> None:
    from tests.helpers import Brand
    from tests.profiles.test_customer_picture import load_jane

    brand = Brand(client, admin_token)
    load_jane(brand)
    profile_id = brand.profile("email", "jane@fake.com")["id"]
    mention_id = _mention(database, profile_id=profile_id, author_fullname="Jane D")
    page = agent.get(f"/inbox/m/{mention_id}")
    assert page.status_code == 200
    pane = page.text.split('class="mention-profile"')[1]
    assert "Jane Doe" in pane
    assert f'href="/profiles/{profile_id}"' in pane
    assert "St Kilda" in pane or "Orders" in pane
    # Without a profile, the pane says how one gets linked.
    other = agent.get(f"/inbox/m/{_mention(database)}")
    assert "No profile is linked to this sender yet." in other.text


def test_bulk_assigns_and_classifies_and_lists_an_unknown_id(
    agent: TestClient, database: Database, clock: FakeClock, people: dict[str, ConsoleUser]
) -> None:
    label = _label(database, clock, "Returns")
    first = _mention(database)
    second = _mention(database)
    boss = people["manager"].id
    assigned = agent.post(
        "/inbox/bulk",
        data={"action": "assign", "assign_to": f"user:{boss}", "ids": [first, second]},
    )
    assert assigned.status_code == 200
    assert toast(assigned) == "Done for 2 mentions."
    assert {_row(database, first).assignee_id, _row(database, second).assignee_id} == {boss}

    classified = agent.post(
        "/inbox/bulk",
        data={"action": "classify", "classification_id": str(label), "ids": [first, "men_gone"]},
    )
    assert classified.status_code == 200
    assert "men_gone" in classified.text.split('id="bulk-refused"')[1]
    with database.unit_of_work(write=False) as session:
        tagged = session.scalars(select(MentionClassification.mention_id)).all()
    assert list(tagged) == [first]
    # Without a choice for the action, nothing changes and the bar says what is missing.
    missing = agent.post("/inbox/bulk", data={"action": "assign", "ids": [first]})
    assert missing.status_code == 422
    assert "Choose a person or a group." in missing.text


def _survey_error(response: httpx.Response) -> str:
    found = re.search(r'id="survey-error">.*?<span>(.*?)</span>', response.text, flags=re.S)
    assert found is not None, response.text[:3000]
    return html.unescape(found.group(1))


def _survey_url(response: httpx.Response) -> str:
    found = re.search(r'id="survey-url" type="text" value="([^"]+)"', response.text)
    assert found is not None, response.text[:3000]
    return html.unescape(found.group(1))


def test_survey_link_from_the_mention_page(
    agent: TestClient,
    client: TestClient,
    database: Database,
    clock: FakeClock,
    settings: Settings,
) -> None:
    from carebase.models import FormInvitation
    from tests.inbox.forms_helpers import make_case, make_form, open_page, post_answer

    nps = make_form(database, clock.now, name="NPS")
    other = make_form(database, clock.now, name="After-sales NPS")
    make_form(database, clock.now, name="Rating", nps=False)
    case_id = make_case(database, clock.now, agent_id=None)
    mention_id = _mention(database, case_id=case_id)
    # Without a case there is no Survey section; with one, the picker offers the NPS forms.
    assert 'id="survey"' not in agent.get(f"/inbox/m/{_mention(database)}").text
    page = agent.get(f"/inbox/m/{mention_id}")
    picker = page.text.split('id="survey-form"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d+)"', picker) == [str(nps), str(other)]
    assert f'<option value="{nps}" selected>' in picker
    assert "Rating" not in picker

    made = agent.post(f"/inbox/m/{mention_id}/survey", data={"form_id": str(nps)})
    assert made.status_code == 200
    url = _survey_url(made)
    assert re.fullmatch(re.escape(settings.base_url) + r"/f/[A-Za-z0-9_-]{43}", url)
    assert 'data-copy="#survey-url"' in made.text
    # The link is the public page's, and it takes one answer.
    path = urlsplit(url).path
    assert open_page(client, path).status_code == 200
    assert post_answer(client, path, score="9").status_code == 200
    assert post_answer(client, path, score="3").status_code == 409

    # Another form for the same case: its own link (htmx: the Survey section alone).
    second = agent.post(
        f"/inbox/m/{mention_id}/survey",
        data={"form_id": str(other)},
        headers={"HX-Request": "true", "HX-Target": "survey"},
    )
    assert second.status_code == 200
    assert second.text.lstrip().startswith('<section id="survey"')
    other_url = _survey_url(second)
    assert other_url != url
    with database.unit_of_work(write=False) as session:
        invited = session.scalars(select(FormInvitation.form_id).order_by(FormInvitation.id))
        assert sorted(invited) == sorted([nps, other])

    # A second press for the same form: the link cannot be shown again; a new one replaces it.
    again = agent.post(f"/inbox/m/{mention_id}/survey", data={"form_id": str(other)})
    assert again.status_code == 409
    assert "cannot be shown again" in _survey_error(again)
    assert 'id="renew-survey-link"' in again.text
    renewed = agent.post(
        f"/inbox/m/{mention_id}/survey", data={"form_id": str(other), "renew": "1"}
    )
    assert renewed.status_code == 200
    assert _survey_url(renewed) != other_url
    assert open_page(client, urlsplit(other_url).path).status_code == 410
    # The answered survey: said inline.
    answered = agent.post(f"/inbox/m/{mention_id}/survey", data={"form_id": str(nps), "renew": "1"})
    assert answered.status_code == 409
    assert "answered this survey already" in _survey_error(answered)


def test_survey_link_refusals_are_inline(
    agent: TestClient, database: Database, clock: FakeClock
) -> None:
    from carebase.inbox import forms
    from carebase.models import FormInvitation
    from tests.inbox.forms_helpers import make_case, make_form

    live = make_form(database, clock.now, name="NPS")
    gone = make_form(database, clock.now, name="Old NPS")
    with database.unit_of_work() as session:
        forms.archive_form(session, gone, now=clock.now)
    mention_id = _mention(database, case_id=make_case(database, clock.now, agent_id=None))
    cases = {
        "nine": "The form must be a whole number.",
        "": "The form is required: choose a form.",
        "424242": "The form is not a form: choose one from the list.",
        str(gone): "The form is an archived form.",
    }
    for form_id, said in cases.items():
        refused = agent.post(f"/inbox/m/{mention_id}/survey", data={"form_id": form_id})
        assert refused.status_code == 422, form_id
        assert _survey_error(refused) == said
    # A mention without a case (a stale page, a crafted post): said inline, nothing made.
    no_case = agent.post(f"/inbox/m/{_mention(database)}/survey", data={"form_id": str(live)})
    assert no_case.status_code == 422
    assert _survey_error(no_case).startswith("This mention has no case yet")
    assert agent.post("/inbox/m/men_nope/survey", data={"form_id": str(live)}).status_code == 404
    # Like the page's other actions, the post needs the session's CSRF token.
    forged = agent.post(
        f"/inbox/m/{mention_id}/survey",
        data={"form_id": str(live)},
        headers={"X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403
    with database.unit_of_work(write=False) as session:
        assert session.scalars(select(FormInvitation)).all() == []
