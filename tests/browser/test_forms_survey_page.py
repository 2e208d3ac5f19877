"""The customer's survey page in Chromium, on both engines: answered with the keyboard only
(Tab to the 0-10 scale, arrows to a score, Tab to the comment, Enter on the button), a missing
score's message with the cursor put on the scale, the public form_url; every state free of
serious axe violations, loading under its CSP, and one column down to 260 px."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from carebase.db.session import Database
from carebase.inbox import forms
from carebase.models import FormResponse
from tests.browser.chromium import Visit, axe_violations, blocking, describe
from tests.conftest import test_settings
from tests.inbox.forms_helpers import make_case, make_form, make_link
from tests.serverproc import RunningServer


@pytest.fixture
def database(server: RunningServer) -> Iterator[Database]:
    """The served database, to seed forms and cases and read answers."""
    db = Database.from_settings(test_settings(server.database_url))
    yield db
    db.dispose()


def _survey_link(database: Database, name: str) -> tuple[int, str]:
    """A new form (named `name`) and a case's one-time link to it: (form id, path)."""
    now = datetime.now(UTC)
    form_id = make_form(database, now, name=name, title="How did Acme do?")
    case_id = make_case(database, now, agent_id=None)
    return form_id, f"/f/{make_link(database, now, form_id, case_id)}"


def _no_blocking_violations(visit: Visit) -> None:
    found = blocking(axe_violations(visit.page))
    assert found == [], describe(found)


def _tab_to(visit: Visit, selector: str, presses: int = 10) -> None:
    for _ in range(presses):
        visit.page.keyboard.press("Tab")
        if visit.page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_customer_answers_with_the_keyboard(
    visit: Callable[..., Visit], database: Database
) -> None:
    form_id, path = _survey_link(database, "Keyboard NPS")
    opened = visit(path, bypass_csp=True)
    assert opened.status == 200
    page = opened.page
    expect(page.locator("h1")).to_have_text("How did Acme do?")
    _no_blocking_violations(opened)

    # Tab enters the radio group on its first option; the arrows choose a score.
    _tab_to(opened, "input[name=score]")
    assert page.evaluate("document.activeElement.id") == "score-0"
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#score-9")).to_be_checked()
    expect(page.locator("#score-9")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#comment")).to_be_focused()
    page.keyboard.type("Quick and kind.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send my answer")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Thank you! Your answer has been recorded.")
    _no_blocking_violations(opened)

    with database.unit_of_work(write=False) as session:
        rows = session.scalars(select(FormResponse).where(FormResponse.form_id == form_id)).all()
        assert [(row.score, row.comment) for row in rows] == [(9, "Quick and kind.")]
    # Back to the link: answered already.
    page.goto(path)
    expect(page.get_by_role("status")).to_contain_text("answered already")


def test_a_missing_score_is_said_beside_the_scale(
    visit: Callable[..., Visit], database: Database
) -> None:
    _, path = _survey_link(database, "Missing score NPS")
    opened = visit(path, bypass_csp=True)
    page = opened.page
    page.locator("#comment").fill("No score, sorry")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.locator("#score-error")).to_have_text("Choose a score from 0 to 10.")
    # The cursor is put on the scale; the comment typed stays.
    expect(page.locator("#score-0")).to_be_focused()
    expect(page.locator("#comment")).to_have_value("No score, sorry")
    _no_blocking_violations(opened)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#score-2")).to_be_checked()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you!")


def test_the_pages_load_under_their_csp_and_fit_260_px(
    visit: Callable[..., Visit], database: Database, server: RunningServer
) -> None:
    _, path = _survey_link(database, "Narrow NPS")
    with database.unit_of_work(write=False) as session:
        [form] = [f for f in forms.list_forms(session) if f.name == "Narrow NPS"]
        public = forms.form_url("", form)
    for target in (path, public):
        plain = visit(target)
        assert plain.status == 200, target
        assert plain.csp_refusals == []
        assert plain.page_errors == []
        assert plain.outside == []
        plain.page.set_viewport_size({"width": 260, "height": 700})
        scroll_width, inner_width = plain.page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, target
    closed = visit("/f/" + "A" * 43, bypass_csp=True)
    assert closed.status == 410
    expect(closed.page.locator("h1")).to_have_text("This survey is not available")
    _no_blocking_violations(closed)
