"""Profiles and Data pages over HTTP, on both engines: signed in or sent to sign in, search,
the four tabs as pages and as htmx fragments, merged and unknown ids, notes written from the
page (bad input is a message on the page, never a 500), History paged by its cursor, and
datasets with their batches' rejections."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.attributes import catalogue
from carebase.db.session import Database
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.console_session import ConsoleUser, sign_in
from tests.helpers import Brand, auth, ticket
from tests.profiles.test_customer_picture import load_jane

HTMX = {"HX-Request": "true"}
TAB = {**HTMX, "HX-Target": "profile-view"}


@pytest.fixture
def web(app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client: https (the session cookie is Secure), no redirects followed."""
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


@pytest.fixture
def agent(web: TestClient, database: Database, settings: Settings, clock: FakeClock) -> ConsoleUser:
    """The client signed in as an agent in Melbourne."""
    return sign_in(web, database, settings, timezone="Australia/Melbourne", now=clock.now)


@pytest.fixture
def jane(web: TestClient, admin_token: str) -> str:
    """Jane's profile id: a customer record, purchases, an email open and a ticket."""
    brand = Brand(web, admin_token)
    brand.post(
        "product",
        {
            "product_id": "P1",
            "name": "Rib Crew Knit",
            "images": ["https://shop.example/knit.jpg"],
            "options": {"category": ["outerwear"]},
        },
    )
    load_jane(brand)
    profile_id: str = brand.profile("email", "jane@fake.com")["id"]
    return profile_id


def _main(html: str) -> str:
    match = re.search(r"<main.*?</main>", html, re.S)
    assert match, html[:300]
    return match.group(0)


def test_signed_out_every_page_sends_you_to_sign_in(web: TestClient) -> None:
    for path in ("/profiles", "/profiles/prf_x", "/profiles/prf_x/history", "/data/datasets"):
        response = web.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in?next=")
    response = web.get("/profiles/search?q=a", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/sign-in")


def test_the_navigation_shows_profiles_and_data(web: TestClient, agent: ConsoleUser) -> None:
    text = web.get("/profiles").text
    nav = re.search(r'<nav class="mainnav".*?</nav>', text, re.S)
    assert nav
    assert 'href="/profiles" aria-current="page"' in nav.group(0)
    assert 'href="/data"' in nav.group(0)


def test_search_says_what_to_type_then_finds_as_you_type(
    web: TestClient, agent: ConsoleUser, jane: str
) -> None:
    empty = web.get("/profiles")
    assert empty.status_code == 200
    assert "Type what you know about the customer" in empty.text
    assert "data-search" in empty.text
    assert 'hx-trigger="input changed delay:200ms, search"' in empty.text
    assert 'hx-sync="this:replace"' in empty.text
    assert 'role="status" aria-live="polite"' in empty.text
    # Without script: the form's GET is a page with results.
    page = web.get("/profiles", params={"q": "jane"})
    assert f'href="/profiles/{jane}"' in page.text
    assert "1 profile found" in page.text
    # As you type: the list alone, the count out of band, the address following the query.
    fragment = web.get("/profiles/search", params={"q": "Jane D"}, headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert f'href="/profiles/{jane}"' in fragment.text
    assert 'hx-swap-oob="innerHTML:#search-status">1 profile found' in fragment.text
    assert fragment.headers["hx-replace-url"] == "/profiles?q=Jane+D"
    nothing = web.get("/profiles/search", params={"q": "zz-nobody"}, headers=HTMX)
    assert "No profile matches “zz-nobody”" in nothing.text
    assert "No profile found" in nothing.text
    # By last name, ignoring case.
    assert jane in web.get("/profiles/search", params={"q": "DOE"}, headers=HTMX).text
    too_long = web.get("/profiles/search", params={"q": "x" * 201}, headers=HTMX)
    assert too_long.status_code == 422
    assert "Type at most 200 characters." in too_long.text


def test_the_profile_opens_on_summary_with_four_tabs_in_order(
    web: TestClient, agent: ConsoleUser, jane: str
) -> None:
    response = web.get(f"/profiles/{jane}")
    assert response.status_code == 200
    main = _main(response.text)
    assert '<h1 id="profile-name">Jane Doe</h1>' in main
    assert 'href="mailto:jane@fake.com"' in main
    tabs = re.findall(
        r'<a id="tab-(\w+)" class="tab" role="tab" href="([^"]+)"\s+aria-selected="(\w+)"', main
    )
    assert [(name, selected) for name, _, selected in tabs] == [
        ("notes", "false"),
        ("summary", "true"),
        ("attributes", "false"),
        ("history", "false"),
    ]
    assert [href for _, href, _ in tabs] == [f"/profiles/{jane}/{name}" for name, _, _ in tabs]
    assert 'role="tablist"' in main
    assert 'role="tabpanel" aria-labelledby="tab-summary"' in main
    # The summary: open ticket highlighted with a link to the helpdesk, commerce and
    # engagement by category, recent engagements newest first.
    assert "Open now: 1 ticket" in main
    assert 'href="https://mybrand.zendesk.com/agent/tickets/1"' in main
    assert "160.00 AUD" in main
    assert "outerwear (3 bought)" in main
    assert (
        main.index("Ticket T-1")
        < main.index("Email opened: Winter Sale")
        < main.index("Purchase o-2")
    )


def test_each_tab_is_a_page_and_an_htmx_fragment(
    web: TestClient, agent: ConsoleUser, jane: str
) -> None:
    for tab in ("notes", "summary", "attributes", "history"):
        page = web.get(f"/profiles/{jane}/{tab}")
        assert page.status_code == 200, tab
        selected = re.search(
            rf'id="tab-{tab}" class="tab" role="tab" href="[^"]+"\s+aria-selected="(\w+)"',
            page.text,
        )
        assert selected
        assert selected.group(1) == "true"
        fragment = web.get(f"/profiles/{jane}/{tab}", headers=TAB)
        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith('<div id="profile-view"')
        assert "<html" not in fragment.text
        assert 'hx-push-url="true"' in fragment.text


def test_attributes_lists_every_catalogue_attribute_with_its_definition(
    web: TestClient, agent: ConsoleUser, jane: str
) -> None:
    main = _main(web.get(f"/profiles/{jane}/attributes").text)
    for attribute in catalogue.catalogue():
        assert f"<code>{attribute.name}</code>" in main, attribute.name
        assert attribute.definition.replace("`", "")[:40] in main.replace("&#39;", "'"), (
            attribute.name
        )
    for title in ("Support", "Commerce", "Email and SMS", "Customer"):
        assert f">{title}</h3>" in main
    # Times in the viewer's zone (Melbourne), the absolute time on hover.
    local = "Saturday 10 February 2024, 20:00:00 AEDT (UTC+11:00)"
    assert f'datetime="2024-02-10T09:00:00Z" title="{local}"' in main
    assert "80.00 AUD" in main  # average order value


def test_a_merged_id_redirects_to_its_survivor_and_an_unknown_one_is_a_404_page(
    web: TestClient, agent: ConsoleUser, admin_token: str
) -> None:
    brand = Brand(web, admin_token)
    brand.post(
        "sms_click",
        {"link": {"mobile": "+61400000099"}, "action_at": "2024-01-01T00:00:00Z", "sms_id": "s1"},
    )
    merged = brand.profile("mobile", "+61400000099")["id"]
    brand.post("customer_record", {"link": {"email": "kim@fake.com"}, "first_name": "Kim"})
    survivor = brand.profile("email", "kim@fake.com")["id"]
    brand.post(
        "customer_support_ticket",
        ticket("T-9", link={"email": "kim@fake.com", "mobile": "+61400000099"}),
    )
    live = brand.profile("email", "kim@fake.com")["id"]
    old = merged if live != merged else survivor
    response = web.get(f"/profiles/{old}/history?type=purchase")
    assert response.status_code == 303
    assert response.headers["location"] == f"/profiles/{live}/history?type=purchase"
    htmx = web.get(f"/profiles/{old}/notes", headers=TAB)
    assert htmx.headers["hx-redirect"] == f"/profiles/{live}/notes"
    # A note written through the old id lands on the survivor.
    written = _post(web, agent, f"/profiles/{old}/notes", body="Same person as the SMS one.")
    assert written.headers["location"] == f"/profiles/{live}/notes?notice=added"
    assert "Same person as the SMS one." in web.get(f"/profiles/{live}/notes").text
    # The merge explanation: the rule, the links that joined, when.
    merges = _main(web.get(f"/profiles/{live}/merges").text)
    assert "Shared link" in merges
    assert "+61400000099" in merges
    assert "kim@fake.com" in merges
    unknown = web.get("/profiles/prf_nobody")
    assert unknown.status_code == 404
    assert "No profile has this id" in unknown.text
    assert "<html" in unknown.text


def test_history_pages_by_cursor_with_and_without_script(
    web: TestClient, agent: ConsoleUser, admin_token: str
) -> None:
    brand = Brand(web, admin_token)
    brand.post(
        "email_open",
        *(
            {
                "link": {"email": "many@fake.com"},
                "action_at": f"2024-01-{day:02d}T08:00:00Z",
                "email_id": f"open-{day}",
                "campaign_id": f"Campaign {day}",
            }
            for day in range(1, 26)
        ),
    )
    profile = brand.profile("email", "many@fake.com")["id"]
    first = _main(web.get(f"/profiles/{profile}/history").text)
    assert first.count('class="event event--email"') == 20
    assert "Campaign 25" in first
    assert "Campaign 6" in first
    assert "Campaign 5" not in first
    sentinel = re.search(r'<li class="history__more" hx-get="([^"]+)" hx-trigger="revealed"', first)
    assert sentinel
    link = re.search(r'<a class="history__more-link" href="([^"]+)"', first)
    assert link
    more = web.get(sentinel.group(1).replace("&amp;", "&"), headers=HTMX)
    assert more.status_code == 200
    assert more.text.count('class="event event--email"') == 5
    assert "very first engagement" in more.text
    assert "Campaign 1<" in more.text or "Campaign 1\n" in more.text
    # Without script, the link is the next page.
    older = _main(web.get(link.group(1).replace("&amp;", "&")).text)
    assert older.count('class="event event--email"') == 5
    assert "Back to the newest" in older
    # A filter that keeps nothing, and a cursor that is not one: words, not a 500.
    filtered = _main(web.get(f"/profiles/{profile}/history?type=purchase").text)
    assert "Nothing of these types." in filtered
    bad = web.get(f"/profiles/{profile}/history?cursor=nonsense")
    assert bad.status_code == 422
    assert "cursor" in bad.text


def _post(
    web: TestClient,
    user: ConsoleUser,
    path: str,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    return web.post(path, data={"csrf_token": user.csrf_token, **fields}, headers=headers or {})


def test_notes_are_added_edited_deleted_and_restored_from_the_page(
    web: TestClient,
    agent: ConsoleUser,
    jane: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
) -> None:
    notes = f"/profiles/{jane}/notes"
    assert "No notes yet." in web.get(notes).text
    # Without script: POST, then back to the tab saying what happened.
    added = _post(web, agent, notes, body="  Wants a call back after 5pm.  ")
    assert added.status_code == 303
    assert added.headers["location"] == f"{notes}?notice=added"
    page = _main(web.get(added.headers["location"]).text)
    assert "Note added." in page
    assert "Wants a call back after 5pm." in page
    assert "Alex Agent (you)" in page
    note_id = re.search(r'id="note-(note_\w+)"', page)
    assert note_id
    note = note_id.group(1)
    # With htmx: the tab again and a toast out of band.
    second = _post(web, agent, notes, headers=TAB, body="Second note")
    assert second.status_code == 200
    assert 'hx-swap-oob="innerHTML:#flash"' in second.text
    assert "Note added." in second.text
    assert second.text.index("Second note") < second.text.index("Wants a call back")
    # Bad input: the message beside the field, the text kept, status 422.
    for body, message in (("   ", "Fill this in."), ("x" * 5001, "Use at most 5000 characters.")):
        bad = _post(web, agent, notes, body=body)
        assert bad.status_code == 422
        assert message in bad.text
        assert 'id="note-body"' in bad.text
        assert 'aria-invalid="true"' in bad.text
    # Edit: a form in place (htmx) or the tab with it open; save.
    form = web.get(f"{notes}/{note}/edit", headers=HTMX)
    assert f'id="note-edit-{note}"' in form.text
    saved = _post(web, agent, f"{notes}/{note}", headers=HTMX, body="Call back after 6pm.")
    assert saved.status_code == 200
    assert "Call back after 6pm." in saved.text
    assert "Note saved." in saved.text
    empty = _post(web, agent, f"{notes}/{note}", headers=HTMX, body="")
    assert empty.status_code == 422
    assert "Fill this in." in empty.text
    # Someone else's note: no Edit or Delete for them, and the server refuses too.
    other = TestClient(web.app, base_url="https://testserver", follow_redirects=False)
    colleague = sign_in(
        other, database, settings, email="kim@brand.io", first_name="Kim", now=clock.now
    )
    theirs = _main(other.get(notes).text)
    assert "Call back after 6pm." in theirs
    assert f"/notes/{note}/delete" not in theirs
    refused = _post(other, colleague, f"{notes}/{note}/delete")
    assert refused.status_code == 403
    assert "Only the note&#39;s author may change it." in refused.text
    # Delete without script: back to the tab with Undo.
    deleted = _post(web, agent, f"{notes}/{note}/delete")
    assert deleted.headers["location"] == f"{notes}?deleted={note}"
    undo_page = _main(web.get(deleted.headers["location"]).text)
    assert "Call back after 6pm." not in undo_page
    assert f'action="/profiles/{jane}/notes/{note}/restore"' in undo_page
    restored = _post(web, agent, f"{notes}/{note}/restore")
    assert restored.headers["location"] == f"{notes}?notice=restored"
    assert "Call back after 6pm." in web.get(notes).text
    # Delete with htmx: the toast carries Undo, which restores.
    toast = _post(web, agent, f"{notes}/{note}/delete", headers=TAB)
    assert "Note deleted." in toast.text
    assert f'hx-post="/profiles/{jane}/notes/{note}/restore"' in toast.text
    back = _post(web, agent, f"{notes}/{note}/restore", headers=TAB)
    assert "Note restored." in back.text
    assert "Call back after 6pm." in back.text
    assert back.headers["hx-push-url"] == notes


def test_a_form_without_its_csrf_token_is_refused(
    web: TestClient, agent: ConsoleUser, jane: str
) -> None:
    response = web.post(f"/profiles/{jane}/notes", data={"body": "hello"})
    assert response.status_code == 403
    assert "reload the page" in response.text
    wrong = web.post(f"/profiles/{jane}/notes", data={"body": "hello", "csrf_token": "nope"})
    assert wrong.status_code == 403


def test_datasets_show_totals_recent_batches_and_every_rejection(
    web: TestClient, agent: ConsoleUser, admin_token: str
) -> None:
    assert web.get("/data").headers["location"] == "/data/datasets"
    assert "No datasets yet." in web.get("/data/datasets").text
    brand = Brand(web, admin_token)
    brand.post("customer_support_ticket", ticket("T-1"))
    dataset = brand.datasets["customer_support_ticket"]
    bad = [{"ticket_id": f"B-{n}", "action_at": "not a time", "link": {}} for n in range(60)]
    answer = web.post(
        f"/v1/datasets/{dataset}/customer_support_ticket", json=bad, headers=auth(admin_token)
    ).json()
    assert answer["rejected"] == 60
    page = _main(web.get("/data/datasets").text)
    assert "Records kept</dt><dd>1</dd>" in page
    assert "Records received</dt><dd>61</dd>" in page
    assert "60</dd>" in page  # rejected
    log = answer["log_id"]
    assert f'href="/data/logs/{log}"' in page
    detail = _main(web.get(f"/data/logs/{log}").text)
    assert "Page 1 of" in detail
    assert detail.count('<tr><td class="num">') == 50
    assert "<code>action_at</code>" in detail
    last = _main(web.get(f"/data/logs/{log}?page=99").text)
    assert "Problems" in last
    assert "Next</a>" not in last
    assert web.get("/data/logs/log_nope").status_code == 404
    assert web.get(f"/data/logs/{log}?page=0").status_code == 422
    assert "Batches, newest first" in web.get(f"/data/datasets/{dataset}").text
