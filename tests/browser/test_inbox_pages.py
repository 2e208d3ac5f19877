"""The inbox in Chromium, on both engines: the list, a mention and the approvals pass axe
(no serious or critical violation) and load under their CSP; an agent claims a mention,
writes a reply and submits it with the keyboard alone. Then the actions as an agent and a
manager do them, each page scanned by axe: approving from Approvals, classifying and closing
from the mention page (a stale page's change refused inline), a bulk change with one refusal
listed, an overdue SLA timer, the tabs after a claim, and a case's survey link made, copied,
put into the reply and answered once by the customer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from carebase.db.session import Database
from carebase.inbox import mentions, replies
from carebase.models import Classification, FormResponse, Response
from carebase.models.users import Group, GroupMember
from tests.browser.chromium import Visit, axe_violations, blocking, describe, open_page
from tests.conftest import test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.inbox.conftest import make_mention
from tests.inbox.forms_helpers import make_case, make_form
from tests.serverproc import RunningServer


@dataclass(frozen=True)
class Setup:
    """A seeded server: an agent's and a manager's cookies, and the mentions' ids."""

    server: RunningServer
    agent: list[dict[str, Any]]
    manager: list[dict[str, Any]]
    ids: dict[str, str]


@pytest.fixture(scope="package")
def inbox_setup(server: RunningServer) -> Setup:
    """Three mentions (one overdue, one classified and claimed), a classification."""
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    try:
        agent = create_signed_in(
            database, settings, email="ines.inbox@brand.io", first_name="Ines", now=now
        )
        manager = create_signed_in(
            database, settings, email="mo.inbox@brand.io", role="manager", now=now
        )
        with database.unit_of_work() as session:
            label = Classification(
                name="Delivery", description="", colour="#1d5fbf", created_at=now, updated_at=now
            )
            session.add(label)
            overdue = make_mention(
                session,
                body="My parcel is three days late. Where is it?",
                author_fullname="Kim Lee",
                published_at=now - timedelta(hours=3),
            )
            fresh = make_mention(
                session,
                body="Do you ship to New Zealand?",
                author_fullname="Ari Moana",
                source_type="email",
                published_at=now - timedelta(minutes=5),
            )
            keyboard = make_mention(
                session,
                body="Can I change the size of my order?",
                author_fullname="Sam Keys",
                published_at=now - timedelta(minutes=1),
            )
    finally:
        database.dispose()
    ids = {"overdue": overdue.id, "fresh": fresh.id, "keyboard": keyboard.id}
    return Setup(
        server,
        [browser_cookie(agent, settings, server.url)],
        [browser_cookie(manager, settings, server.url)],
        ids,
    )


@pytest.fixture
def visit(browser: Browser, inbox_setup: Setup) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_(
        path: str, *, who: str = "agent", as_: list[dict[str, Any]] | None = None, **options: Any
    ) -> Visit:
        """`who`: the agent, the manager, or `nobody` (a customer); `as_`: other cookies."""
        people = {"agent": inbox_setup.agent, "manager": inbox_setup.manager, "nobody": []}
        cookies = as_ if as_ is not None else people[who]
        found = open_page(browser, inbox_setup.server.url, path, cookies=cookies, **options)
        opened.append(found)
        return found

    yield open_
    for found in opened:
        found.context.close()


PAGES: dict[str, Callable[[dict[str, str]], str]] = {
    "inbox": lambda ids: "/inbox?tab=all",
    "mention": lambda ids: f"/inbox/m/{ids['overdue']}",
    "approvals": lambda ids: "/inbox/approvals",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_inbox_pages_pass_axe_and_load_under_their_csp(
    visit: Callable[..., Visit], inbox_setup: Setup, name: str
) -> None:
    path = PAGES[name](inbox_setup.ids)
    scanned = visit(path, who="manager", bypass_csp=True)
    assert scanned.status == 200, path
    found = blocking(axe_violations(scanned.page))
    assert found == [], describe(found)
    plain = visit(path, who="manager")
    assert plain.csp_refusals == []
    assert plain.page_errors == []
    assert plain.outside == []


def _tab_to(page: Page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_claim_reply_and_submit_with_the_keyboard(
    visit: Callable[..., Visit], inbox_setup: Setup
) -> None:
    mention_id = inbox_setup.ids["keyboard"]
    page = visit("/inbox").page
    expect(page.locator("#inbox-list")).to_contain_text("Sam Keys")
    _tab_to(page, f"a[href='/inbox/m/{mention_id}']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/inbox/m/{mention_id}$"))

    _tab_to(page, "#claim")
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Claimed")
    expect(page.locator("#mention [data-state='assigned']").first).to_be_visible()

    _tab_to(page, "#reply-body")
    page.keyboard.type("Yes: reply with the size you want and we will swap it.")
    _tab_to(page, "#send-reply")
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Reply submitted")
    expect(page.locator(".conversation")).to_contain_text("we will swap it")

    settings = test_settings(inbox_setup.server.database_url)
    database = Database.from_settings(settings)
    try:
        with database.unit_of_work(write=False) as session:
            sent = list(session.query(Response).filter(Response.mention_id == mention_id).all())
    finally:
        database.dispose()
    assert [r.body for r in sent] == ["Yes: reply with the size you want and we will swap it."]
    assert sent[0].status in {"sending", "sent", "failed"}


# --- the inbox's actions, as an agent and a manager do them -------------------------------


@pytest.fixture
def database(inbox_setup: Setup) -> Iterator[Database]:
    """The served database, to seed what a test needs and read what it did."""
    db = Database.from_settings(test_settings(inbox_setup.server.database_url))
    yield db
    db.dispose()


def _seed(database: Database, **fields: Any) -> str:
    """A new mention (published now unless said), its id."""
    fields.setdefault("published_at", datetime.now(UTC))
    with database.unit_of_work() as session:
        return make_mention(session, **fields).id


def _label(database: Database, name: str) -> None:
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        session.add(
            Classification(
                name=name, description="", colour="#8a4b00", created_at=now, updated_at=now
            )
        )


def _clean(visit: Visit) -> None:
    """No serious or critical axe violation on the page as it is now."""
    found = blocking(axe_violations(visit.page))
    assert found == [], describe(found)


def _row(page: Page, mention_id: str) -> Any:
    return page.locator(f"#inbox-list tr[data-mention='{mention_id}']")


def _awaiting_reply(database: Database, inbox_setup: Setup, body: str) -> tuple[str, Any]:
    """A trainee (in a group whose replies need approval) claims a new mention and submits
    `body`: the mention's id and the trainee's cookies."""
    settings = test_settings(inbox_setup.server.database_url)
    now = datetime.now(UTC)
    trainee = create_signed_in(
        database, settings, email=f"tia.{now.timestamp()}@brand.io", first_name="Tia", now=now
    )
    mention_id = _seed(database, author_fullname="Pat Pending", body="Can I get a refund?")
    with database.unit_of_work() as session:
        group = Group(
            name=f"Trainees {now.timestamp()}",
            comment="",
            requires_approval=True,
            created_at=now,
            updated_at=now,
        )
        session.add(group)
        session.flush()
        session.add(GroupMember(group_id=group.id, user_id=trainee.id))
        mentions.claim(session, mentions.lock_mention(session, mention_id), trainee.id, now)
        written = replies.draft(session, mention_id, trainee.id, body, now)
        replies.submit(session, written.id, trainee.id, now)
    return mention_id, [browser_cookie(trainee, settings, inbox_setup.server.url)]


def test_a_manager_approves_a_reply_from_the_approvals(
    visit: Callable[..., Visit], inbox_setup: Setup, database: Database
) -> None:
    body = "Yes: the refund is on its way."
    mention_id, trainee = _awaiting_reply(database, inbox_setup, body)
    # The trainee sees it waiting, without an approve button.
    waiting = visit(f"/inbox/m/{mention_id}", as_=trainee).page
    expect(waiting.locator("#mention [data-state='awaiting_approval']").first).to_be_visible()
    expect(waiting.locator("#review-title")).to_have_text("Waiting for approval")
    expect(waiting.get_by_role("button", name="Approve and send")).to_have_count(0)

    opened = visit("/inbox/approvals", who="manager", bypass_csp=True)
    page = opened.page
    item = page.locator(".approvals li", has_text=body)
    expect(item).to_contain_text("Pat Pending")
    _clean(opened)
    item.get_by_role("button", name="Approve and send").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Reply approved")
    expect(page.locator("main")).not_to_contain_text(body)
    _clean(opened)

    # The mention: no longer waiting, the reply on its way in the conversation.
    page.goto(f"/inbox/m/{mention_id}")
    expect(page.locator("#review-title")).to_have_count(0)
    badge = page.locator("#mention .page-head [data-state]")
    expect(badge).to_have_attribute("data-state", re.compile("^(in_progress|responded)$"))
    sent = page.locator(".conversation .message--agent", has_text=body)
    expect(sent).to_contain_text(re.compile("Sending|Sent|Failed"))
    _clean(opened)


def test_classify_change_state_and_a_refusal_shown_inline(
    visit: Callable[..., Visit], database: Database
) -> None:
    _label(database, "Returns")
    mention_id = _seed(database, author_fullname="Cleo Class", body="The shoes do not fit.")
    opened = visit(f"/inbox/m/{mention_id}", bypass_csp=True)
    page = opened.page
    _clean(opened)
    page.locator("#classify-with").select_option(label="Returns")
    page.get_by_role("button", name="Classify", exact=True).click()
    expect(page.locator("#flash")).to_contain_text("Classification added.")
    expect(page.locator(".mention-facts")).to_contain_text("Returns")
    expect(page.get_by_role("button", name="Remove the classification Returns")).to_be_visible()
    _clean(opened)

    # A manager still has the page as it was; the agent closes the mention meanwhile.
    stale = visit(f"/inbox/m/{mention_id}", who="manager", bypass_csp=True)
    page.locator("#state-target").select_option("closed")
    page.get_by_role("button", name="Change state").click()
    expect(page.locator("#flash")).to_contain_text("State changed.")
    expect(page.locator("#mention .page-head [data-state]")).to_have_attribute(
        "data-state", "closed"
    )
    # A closed mention offers only re-opening.
    options = page.locator("#state-target option")
    expect(options).to_have_text(["New", "Assigned"])
    _clean(opened)

    # The manager's change from the stale page is refused, the reason beside the control.
    stale.page.locator("#state-target").select_option("in_progress")
    stale.page.get_by_role("button", name="Change state").click()
    refusal = stale.page.locator("#refused-state")
    expect(refusal).to_have_attribute("role", "alert")
    expect(refusal).to_contain_text("changed since you read it")
    expect(stale.page.locator("#state-target")).to_have_attribute(
        "aria-describedby", "refused-state"
    )
    # The page shows the mention as it is now.
    expect(stale.page.locator("#mention .page-head [data-state]")).to_have_attribute(
        "data-state", "closed"
    )
    _clean(stale)


def test_bulk_closes_two_and_lists_the_refused_one(
    visit: Callable[..., Visit], database: Database
) -> None:
    done = _seed(database, author_fullname="Bo Bulk", body="Thanks, all sorted.")
    waiting = _seed(database, author_fullname="Wes Waiting", state="awaiting_approval")
    opened = visit("/inbox?tab=all", bypass_csp=True)
    page = opened.page
    _clean(opened)
    page.locator(f"#check-{done}").check()
    page.locator(f"#check-{waiting}").check()
    page.locator("#bulk-action").select_option(label="Change state to")
    page.locator("#bulk-state").select_option("closed")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#flash")).to_contain_text("Done for 1 mention. 1 refused")
    refused = page.locator("#bulk-refused")
    expect(refused).to_contain_text(waiting)
    expect(refused).to_contain_text("approve or reject it first")
    expect(refused.locator("li")).to_have_count(1)
    # The closed one left the open mentions; the refused one is still there, unchanged.
    expect(_row(page, done)).to_have_count(0)
    expect(_row(page, waiting).locator("[data-state]")).to_have_attribute(
        "data-state", "awaiting_approval"
    )
    _clean(opened)


def test_an_overdue_mention_shows_its_timer(
    visit: Callable[..., Visit], database: Database
) -> None:
    # Published five hours ago: the default customer SLA (2 h) ran out three hours ago.
    late = _seed(
        database,
        author_fullname="Olive Overdue",
        published_at=datetime.now(UTC) - timedelta(hours=5),
    )
    listed = visit("/inbox", bypass_csp=True)
    timer = _row(listed.page, late).locator(".sla--overdue")
    expect(timer).to_have_count(1)
    expect(timer).to_contain_text(re.compile(r"Customer\s*3 h\b.*overdue"))
    _clean(listed)
    shown = visit(f"/inbox/m/{late}", bypass_csp=True)
    on_page = shown.page.locator(".mention-facts .sla--overdue")
    expect(on_page).to_contain_text(re.compile(r"Customer\s*3 h\b.*overdue"))
    expect(on_page).to_contain_text("due")
    _clean(shown)


def test_tabs_follow_a_claim(visit: Callable[..., Visit], database: Database) -> None:
    mention_id = _seed(database, author_fullname="Tom Tabs", body="Is the shop open Sunday?")
    opened = visit("/inbox", bypass_csp=True)
    page = opened.page
    expect(_row(page, mention_id)).to_have_count(1)
    page.get_by_role("link", name=re.compile("^Mine")).click()
    expect(page.get_by_role("link", name=re.compile("^Mine"))).to_have_attribute(
        "aria-current", "page"
    )
    expect(_row(page, mention_id)).to_have_count(0)

    page.goto(f"/inbox/m/{mention_id}")
    page.locator("#claim").click()
    expect(page.locator("#flash")).to_contain_text("Claimed")

    page.goto("/inbox")
    expect(page.locator("#inbox-list")).to_be_visible()
    expect(_row(page, mention_id)).to_have_count(0)
    page.get_by_role("link", name=re.compile("^Mine")).click()
    expect(page).to_have_url(re.compile(r"tab=mine"))
    expect(_row(page, mention_id)).to_contain_text("Ines")
    _clean(opened)
    page.get_by_role("link", name=re.compile("^All open")).click()
    expect(page).to_have_url(re.compile(r"tab=all"))
    expect(_row(page, mention_id)).to_have_count(1)
    # Another agent's Mine does not have it.
    theirs = visit("/inbox?tab=mine", who="manager").page
    expect(theirs.locator("#inbox-list")).to_be_visible()
    expect(_row(theirs, mention_id)).to_have_count(0)


def test_an_agent_gets_a_survey_link_and_the_customer_answers_it_once(
    visit: Callable[..., Visit], database: Database
) -> None:
    now = datetime.now(UTC)
    form_id = make_form(
        database, now, name=f"Console NPS {now.timestamp()}", title="How did Acme do?"
    )
    case_id = make_case(database, now, agent_id=None)
    mention_id = _seed(database, author_fullname="Nina Nps", case_id=case_id)
    opened = visit(f"/inbox/m/{mention_id}", bypass_csp=True)
    page = opened.page
    page.locator("#reply-body").fill("Glad it arrived!")
    # This test's form (the server is shared: other tests' NPS forms may be offered first).
    page.locator("#survey-form").select_option(str(form_id))
    _tab_to(page, "#get-survey-link")
    page.keyboard.press("Enter")
    link = page.locator("#survey-url")
    expect(link).to_have_value(re.compile(r"/f/[A-Za-z0-9_-]{43}$"))
    expect(page.locator("#survey-made")).to_contain_text("takes one answer")
    # The section alone was swapped: the reply being written is still there.
    expect(page.locator("#reply-body")).to_have_value("Glad it arrived!")
    _clean(opened)

    # Copy with the keyboard (the clipboard, else the field selected for Ctrl+C).
    _tab_to(page, "#copy-survey-url")
    page.keyboard.press("Enter")
    expect(page.locator("#survey [data-copy-status]")).to_have_text(
        re.compile("^(Copied\\.|Selected: press Ctrl\\+C)")
    )
    url = link.input_value()
    _tab_to(page, "#insert-survey-url")
    page.keyboard.press("Enter")
    expect(page.locator("#reply-body")).to_have_value(f"Glad it arrived!\n\n{url}")
    expect(page.locator("#reply-body")).to_be_focused()

    # The customer opens the link (no session) and answers it, once.
    survey = visit(urlsplit(url).path, who="nobody").page
    expect(survey.locator("h1")).to_have_text("How did Acme do?")
    survey.locator("#score-8").check()
    survey.get_by_role("button", name="Send my answer").click()
    expect(survey.get_by_role("status")).to_have_text("Thank you! Your answer has been recorded.")
    survey.goto(urlsplit(url).path)
    expect(survey.get_by_role("status")).to_contain_text("answered already")
    with database.unit_of_work(write=False) as session:
        answers = session.scalars(select(FormResponse).where(FormResponse.case_id == case_id))
        assert [row.score for row in answers] == [8]

    # Pressed again for the same form: answered already, said in the section.
    page.locator("#get-survey-link").click()
    expect(page.locator("#survey-error")).to_contain_text("answered this survey already")
    _clean(opened)
