"""Settings > Inbox in Chromium, on both engines: every page passes axe (no serious or
critical violation) and loads under its CSP; a classification and a rule are created with
the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from carebase.db.session import Database
from carebase.inbox import classifications, forms, ignored, policies, queues, rules_service
from carebase.inbox import templates as reply_templates
from tests.browser.chromium import Visit, axe_violations, blocking, describe, open_page
from tests.conftest import test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.serverproc import RunningServer


@dataclass(frozen=True)
class Setup:
    """A seeded server: a manager's cookies, and the ids the pages name."""

    server: RunningServer
    cookies: list[dict[str, Any]]
    ids: dict[str, str]


@pytest.fixture(scope="package")
def inbox_setup(server: RunningServer) -> Setup:
    """One of each inbox setting, made through the services."""
    settings = test_settings(server.database_url)
    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    try:
        manager = create_signed_in(
            database, settings, email="ivy.inbox@brand.io", role="manager", now=now
        )
        with database.unit_of_work() as session:
            label = classifications.create(session, name="Axe complaint", colour="#d9480f", now=now)
            hours = policies.create_hours(
                session,
                {
                    "name": "Axe hours",
                    "timezone": "Australia/Sydney",
                    "intervals": [{"weekday": 0, "start": "09:00", "end": "17:00"}],
                    "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
                },
                now,
            )
            policy = policies.create_policy(
                session,
                {
                    "name": "Axe policy",
                    "customer_sla_seconds": 3600,
                    "agent_sla_seconds": 1800,
                    "business_hours_id": hours.id,
                },
                now,
            )
            queue = queues.create_queue(session, "Axe queue", now, sla_policy_id=policy.id)
            rule = rules_service.create_rule(
                session,
                queue.id,
                "Axe rule",
                {"terms": ["refund"]},
                {"classify": [label.id], "redact": ["cards"]},
                now,
            )
            sender = ignored.add_ignored(session, "*@noreply.axe.example", now)
            template = reply_templates.create_template(
                session,
                name="Axe template",
                body="Hi {{ profile.first_name }}",
                group_ids=[],
                now=now,
            )
            form = forms.create_form(
                session,
                name="Axe NPS",
                title="Recommend us?",
                nps=True,
                groups=[],
                comment_prompt="Why?",
                now=now,
            )
            ids = {
                "classification": str(label.id),
                "hours": hours.id,
                "policy": policy.id,
                "queue": queue.id,
                "rule": rule.id,
                "sender": sender.id,
                "template": template.id,
                "form": str(form.id),
            }
    finally:
        database.dispose()
    return Setup(server, [browser_cookie(manager, settings, server.url)], ids)


@pytest.fixture
def as_manager(browser: Browser, inbox_setup: Setup) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_(path: str, **options: Any) -> Visit:
        visit = open_page(
            browser, inbox_setup.server.url, path, cookies=inbox_setup.cookies, **options
        )
        opened.append(visit)
        return visit

    yield open_
    for visit in opened:
        visit.context.close()


PAGES: dict[str, Callable[[dict[str, str]], str]] = {
    "home": lambda ids: "/settings/inbox",
    "classifications": lambda ids: "/settings/inbox/classifications",
    "classification-new": lambda ids: "/settings/inbox/classifications/new",
    "classification": lambda ids: f"/settings/inbox/classifications/{ids['classification']}",
    "queues": lambda ids: "/settings/inbox/queues",
    "queue": lambda ids: f"/settings/inbox/queues/{ids['queue']}",
    "rules": lambda ids: f"/settings/inbox/queues/{ids['queue']}/rules",
    "rule-new": lambda ids: f"/settings/inbox/queues/{ids['queue']}/rules/new",
    "rule": lambda ids: f"/settings/inbox/rules/{ids['rule']}",
    "ignored": lambda ids: "/settings/inbox/ignored",
    "ignored-sender": lambda ids: f"/settings/inbox/ignored/{ids['sender']}",
    "sla-policies": lambda ids: "/settings/inbox/sla-policies",
    "sla-policy": lambda ids: f"/settings/inbox/sla-policies/{ids['policy']}",
    "business-hours": lambda ids: "/settings/inbox/business-hours",
    "business-hours-edit": lambda ids: f"/settings/inbox/business-hours/{ids['hours']}",
    "templates": lambda ids: "/settings/inbox/templates",
    "template": lambda ids: f"/settings/inbox/templates/{ids['template']}",
    "forms": lambda ids: "/settings/inbox/forms",
    "form-new": lambda ids: "/settings/inbox/forms/new",
    "workflow": lambda ids: "/settings/inbox/workflow",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_inbox_settings_pages_pass_axe_and_load_under_their_csp(
    as_manager: Callable[..., Visit], inbox_setup: Setup, name: str
) -> None:
    path = PAGES[name](inbox_setup.ids)
    scanned = as_manager(path, bypass_csp=True)
    assert scanned.status == 200, path
    found = blocking(axe_violations(scanned.page))
    assert found == [], describe(found)
    plain = as_manager(path)
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


def test_a_classification_is_created_with_the_keyboard(
    as_manager: Callable[..., Visit],
) -> None:
    page = as_manager("/settings/inbox/classifications").page
    _tab_to(page, "a[href='/settings/inbox/classifications/new']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/classifications/new$"))
    name = f"Keyboard {datetime.now(UTC):%H%M%S%f}"
    _tab_to(page, "#name")
    page.keyboard.type(name)
    _tab_to(page, "#description")
    page.keyboard.type("Made without a mouse")
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/settings/inbox/classifications\?done=created"))
    expect(page.locator("#flash")).to_contain_text(f"Created the classification {name}.")
    expect(page.get_by_role("link", name=name)).to_be_visible()


def test_a_rule_is_created_with_the_keyboard(
    as_manager: Callable[..., Visit], inbox_setup: Setup
) -> None:
    queue_id, label = inbox_setup.ids["queue"], inbox_setup.ids["classification"]
    page = as_manager(f"/settings/inbox/queues/{queue_id}/rules").page
    _tab_to(page, f"a[href='/settings/inbox/queues/{queue_id}/rules/new']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/rules/new$"))
    name = f"Keyboard rule {datetime.now(UTC):%H%M%S%f}"
    _tab_to(page, "#name")
    page.keyboard.type(name)
    _tab_to(page, "#terms")
    page.keyboard.type("broken")
    _tab_to(page, f"input[name=classify][value='{label}']")
    page.keyboard.press("Space")
    _tab_to(page, "input[name=redact][value=emails]")
    page.keyboard.press("Space")
    _tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/rules\?done=created"))
    expect(page.locator("#flash")).to_contain_text(f"Created the rule {name}.")
    row = page.locator("tr", has_text=name)
    expect(row).to_contain_text("Axe complaint")
    expect(row).to_contain_text("email addresses")
