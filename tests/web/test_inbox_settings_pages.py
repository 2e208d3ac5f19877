"""Settings > Inbox over HTTP, on both engines: each page lists, creates and edits through
the inbox services; bad input comes back as a message beside the field it names (422,
never a 500); agents get the managers-only page; a group's "replies require approval"."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from carebase.activation import service as destinations
from carebase.activation.schemas import DestinationIn
from carebase.db.session import Database
from carebase.inbox import (
    classifications,
    forms,
    ignored,
    policies,
    queues,
    rules_service,
    templates,
)
from carebase.inbox import settings as inbox_settings
from carebase.models.users import Group
from carebase.settings import Settings
from carebase.users import service as users
from tests.conftest import FakeClock
from tests.console_session import ConsoleUser
from tests.web.console import csrf, field_errors, form_error, toast


def _group(database: Database, clock: FakeClock, name: str) -> int:
    with database.unit_of_work() as session:
        return users.create_group(session, name=name, comment="", now=clock.now).id


def _post(client: TestClient, path: str, data: dict[str, object]) -> httpx.Response:
    """Post `data` with the CSRF token of a page the manager can open."""
    page = client.get(path if client.get(path).status_code == 200 else "/settings/inbox")
    return client.post(path, data={"csrf_token": csrf(page), **data})


# The frame.


def test_the_inbox_settings_start_page_links_every_section(manager: TestClient) -> None:
    settings = manager.get("/settings/users")
    assert '<a href="/settings/inbox">Inbox</a>' in settings.text
    page = manager.get("/settings/inbox")
    assert page.status_code == 200
    assert "<h1>Inbox settings</h1>" in page.text
    assert '<a href="/settings/inbox" aria-current="page">Inbox</a>' in page.text


# A group's replies may need approval.


def test_a_group_can_require_approval_of_its_members_replies(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    group_id = _group(database, clock, "New starters")
    path = f"/settings/groups/{group_id}"
    form = manager.get(path)
    assert 'name="requires_approval"' in form.text
    assert 'name="requires_approval" value="on" aria-describedby' in form.text  # unticked
    saved = manager.post(
        path,
        data={"csrf_token": csrf(form), "name": "New starters", "requires_approval": "on"},
    )
    assert saved.status_code == 303
    with database.unit_of_work(write=False) as session:
        assert session.get(Group, group_id).requires_approval is True  # type: ignore[union-attr]
    again = manager.get(path)
    assert 'value="on" aria-describedby="requires_approval-hint" checked' in again.text
    # Left unticked: no longer required.
    manager.post(path, data={"csrf_token": csrf(again), "name": "New starters"})
    with database.unit_of_work(write=False) as session:
        assert session.get(Group, group_id).requires_approval is False  # type: ignore[union-attr]


def test_the_groups_api_reads_and_changes_requires_approval(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    group_id = _group(database, clock, "Trainees")
    headers = {"Authorization": f"Bearer {admin_token}"}
    assert (
        client.get(f"/v1/groups/{group_id}", headers=headers).json()["requires_approval"] is False
    )
    changed = client.patch(
        f"/v1/groups/{group_id}", json={"requires_approval": True}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["requires_approval"] is True
    refused = client.patch(
        f"/v1/groups/{group_id}", json={"requires_approval": None}, headers=headers
    )
    assert refused.status_code == 422


def test_the_approval_checkbox_refuses_other_values(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    group_id = _group(database, clock, "Night shift")
    path = f"/settings/groups/{group_id}"
    form = manager.get(path)
    refused = manager.post(
        path, data={"csrf_token": csrf(form), "name": "Night shift", "requires_approval": "yes"}
    )
    assert refused.status_code == 422
    assert field_errors(refused) == {"requires_approval": "Choose one of the options."}
    assert toast(refused) is None


INBOX_SETTINGS_PAGES = [
    "/settings/inbox",
    "/settings/inbox/classifications",
    "/settings/inbox/classifications/new",
    "/settings/inbox/queues",
    "/settings/inbox/queues/new",
    "/settings/inbox/ignored",
    "/settings/inbox/ignored/new",
    "/settings/inbox/sla-policies",
    "/settings/inbox/sla-policies/new",
    "/settings/inbox/business-hours",
    "/settings/inbox/business-hours/new",
    "/settings/inbox/templates",
    "/settings/inbox/templates/new",
    "/settings/inbox/forms",
    "/settings/inbox/forms/new",
    "/settings/inbox/workflow",
]


def test_agents_get_the_managers_only_page(
    agent: TestClient, manager: TestClient, database: Database, clock: FakeClock
) -> None:
    queue_id = _queue(database, clock)
    for path in [*INBOX_SETTINGS_PAGES, f"/settings/inbox/queues/{queue_id}/rules"]:
        response = agent.get(path)
        assert response.status_code == 403, path
        assert "Only managers can do this." in response.text
    page = manager.get("/settings/inbox")
    for section in (
        "Classifications",
        "Queues",
        "Ignored senders",
        "SLA policies",
        "Business hours",
        "Templates",
        "Forms",
        "Workflow",
    ):
        assert f">{section}</a>" in page.text, section
    refused = agent.post(
        "/settings/inbox/classifications/new",
        data={"csrf_token": csrf(manager.get("/settings/inbox")), "name": "X", "colour": "#000000"},
    )
    assert refused.status_code == 403


def test_every_page_opens_for_a_manager(manager: TestClient) -> None:
    for path in INBOX_SETTINGS_PAGES:
        response = manager.get(path)
        assert response.status_code == 200, path
        assert "<h1" in response.text


# Queues.


def test_queues_are_listed_created_and_edited(manager: TestClient, database: Database) -> None:
    empty = manager.get("/settings/inbox/queues")
    assert empty.status_code == 200
    assert "No queues yet" in empty.text
    created = _post(
        manager,
        "/settings/inbox/queues/new",
        {"name": "VIP", "description": "Big spenders", "sla_policy_id": ""},
    )
    assert created.status_code == 303
    listed = manager.get(created.headers["location"])
    assert toast(listed) == "Created the queue VIP. Add rules to route its new mentions."
    assert "Big spenders" in listed.text
    with database.unit_of_work(write=False) as session:
        (queue,) = queues.list_queues(session)
    assert (queue.name, queue.is_default) == ("VIP", False)
    saved = _post(
        manager,
        f"/settings/inbox/queues/{queue.id}",
        {"name": "VIP customers", "description": "", "sla_policy_id": "", "is_default": "on"},
    )
    assert saved.status_code == 303
    edit = manager.get(f"/settings/inbox/queues/{queue.id}")
    assert f'<a class="button" href="/settings/inbox/queues/{queue.id}/rules">' in edit.text
    listed = manager.get("/settings/inbox/queues")
    assert "VIP customers" in listed.text
    assert '<span class="badge">Default</span>' in listed.text
    # The default queue cannot be archived: the page says why, no 500.
    refused = _post(manager, f"/settings/inbox/queues/{queue.id}/archive", {})
    assert refused.status_code == 409
    assert "default queue cannot be archived" in refused.text


def test_a_queue_is_archived_and_restored(manager: TestClient, database: Database) -> None:
    _post(manager, "/settings/inbox/queues/new", {"name": "Old"})
    with database.unit_of_work(write=False) as session:
        (queue,) = queues.list_queues(session)
    page = manager.get("/settings/inbox/queues")
    archived = manager.post(
        f"/settings/inbox/queues/{queue.id}/archive", data={"csrf_token": csrf(page)}
    )
    assert archived.status_code == 303
    listed = manager.get(archived.headers["location"])
    assert toast(listed) == "Archived the queue Old: no new mentions land in it."
    assert "Archived</span>" in listed.text
    restored = manager.post(
        f"/settings/inbox/queues/{queue.id}/restore", data={"csrf_token": csrf(listed)}
    )
    assert toast(manager.get(restored.headers["location"])) == "Restored the queue Old."


def test_bad_queue_input_is_named_beside_its_field(manager: TestClient) -> None:
    blank = _post(manager, "/settings/inbox/queues/new", {"name": ""})
    assert blank.status_code == 422
    assert field_errors(blank) == {"name": "Fill this in."}
    _post(manager, "/settings/inbox/queues/new", {"name": "Social"})
    taken = _post(manager, "/settings/inbox/queues/new", {"name": "Social"})
    assert taken.status_code == 422
    assert "name" in field_errors(taken)
    unknown = _post(
        manager, "/settings/inbox/queues/new", {"name": "Email", "sla_policy_id": "sla_nope"}
    )
    assert unknown.status_code == 422
    assert field_errors(unknown) == {"sla_policy_id": "No such SLA policy."}


# Ignored senders.


def test_ignored_senders_are_listed_added_edited_and_removed(
    manager: TestClient, database: Database
) -> None:
    assert "No ignored senders" in manager.get("/settings/inbox/ignored").text
    added = _post(
        manager,
        "/settings/inbox/ignored/new",
        {"pattern": "*@noreply.example.com", "comment": "robots"},
    )
    assert added.status_code == 303
    listed = manager.get(added.headers["location"])
    assert toast(listed) == (
        "Ignoring *@noreply.example.com from now on: their messages arrive as irrelevant."
    )
    with database.unit_of_work(write=False) as session:
        (row,) = ignored.list_ignored(session)
    saved = _post(
        manager, f"/settings/inbox/ignored/{row.id}", {"pattern": "spam_bot", "comment": ""}
    )
    assert saved.status_code == 303
    assert "<code>spam_bot</code>" in manager.get("/settings/inbox/ignored").text
    removed = _post(manager, f"/settings/inbox/ignored/{row.id}", {})
    assert removed.status_code == 422  # pattern missing
    page = manager.get("/settings/inbox/ignored")
    gone = manager.post(f"/settings/inbox/ignored/{row.id}/delete", data={"csrf_token": csrf(page)})
    assert toast(manager.get(gone.headers["location"])) == "Stopped ignoring spam_bot."
    with database.unit_of_work(write=False) as session:
        assert ignored.list_ignored(session) == []


def test_bad_sender_patterns_are_named(manager: TestClient) -> None:
    wild = _post(manager, "/settings/inbox/ignored/new", {"pattern": "**"})
    assert wild.status_code == 422
    assert field_errors(wild) == {"pattern": "Must hold more than wildcards."}
    _post(manager, "/settings/inbox/ignored/new", {"pattern": "bot"})
    again = _post(manager, "/settings/inbox/ignored/new", {"pattern": "bot"})
    assert field_errors(again) == {"pattern": "That pattern is ignored already."}


# Templates.


def test_templates_are_listed_created_edited_and_archived(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    vip = _group(database, clock, "VIP team")
    form = manager.get("/settings/inbox/templates/new")
    assert "{{ profile.first_name }}" in form.text  # the variables are explained
    created = _post(
        manager,
        "/settings/inbox/templates/new",
        {"name": "Sorry", "body": "Hi {{ profile.first_name }}, sorry!", "groups": [str(vip)]},
    )
    assert created.status_code == 303, created.text[:2000]
    listed = manager.get(created.headers["location"])
    assert toast(listed) == "Created the template Sorry. Agents can start replies from it."
    assert "VIP team" in listed.text
    with database.unit_of_work(write=False) as session:
        (template,) = templates.list_templates(session)
    assert template.group_ids == [vip]
    edit = manager.get(f"/settings/inbox/templates/{template.id}")
    assert f'value="{vip}" checked' in edit.text
    saved = _post(
        manager,
        f"/settings/inbox/templates/{template.id}",
        {"name": "Apology", "body": "Hello {{ profile.first_name or 'there' }}"},
    )
    assert saved.status_code == 303
    listed = manager.get("/settings/inbox/templates")
    assert "Apology" in listed.text
    assert "Everyone" in listed.text
    archived = manager.post(
        f"/settings/inbox/templates/{template.id}/archive", data={"csrf_token": csrf(listed)}
    )
    assert toast(manager.get(archived.headers["location"])) == (
        "Archived the template Apology: new replies cannot use it."
    )
    with database.unit_of_work(write=False) as session:
        assert templates.list_templates(session) == []


def test_bad_template_input_is_named_beside_its_field(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    broken = _post(
        manager, "/settings/inbox/templates/new", {"name": "Broken", "body": "Hi {{ profile."}
    )
    assert broken.status_code == 422
    assert field_errors(broken)["body"].startswith("Is not a valid template (line 1")
    private = _post(
        manager, "/settings/inbox/templates/new", {"name": "Sneaky", "body": "{{ x.__class__ }}"}
    )
    assert field_errors(private) == {"body": "May not use the private attribute '__class__'."}
    empty = _post(manager, "/settings/inbox/templates/new", {"name": "", "body": ""})
    assert field_errors(empty) == {"name": "Fill this in.", "body": "Fill this in."}
    not_a_group = _post(
        manager, "/settings/inbox/templates/new", {"name": "X", "body": "x", "groups": "abc"}
    )
    assert field_errors(not_a_group) == {"groups": "Enter a whole number."}
    _post(manager, "/settings/inbox/templates/new", {"name": "Same", "body": "x"})
    taken = _post(manager, "/settings/inbox/templates/new", {"name": "Same", "body": "y"})
    assert taken.status_code == 422
    assert "name" in field_errors(taken)


# Forms.


def test_nps_forms_are_created_with_their_public_link_edited_and_archived(
    manager: TestClient, database: Database
) -> None:
    new = manager.get("/settings/inbox/forms/new")
    assert 'name="nps" value="on" checked' in new.text
    created = _post(
        manager,
        "/settings/inbox/forms/new",
        {"name": "NPS", "title": "Would you recommend us?", "comment_prompt": "Why?", "nps": "on"},
    )
    assert created.status_code == 303, created.text[:2000]
    listed = manager.get(created.headers["location"])
    assert toast(listed) == "Created the form NPS. Its public link is in the list."
    with database.unit_of_work(write=False) as session:
        (form,) = forms.list_forms(session)
        key = form.public_key
    assert form.nps is True
    assert f"/forms/{key}</code>" in listed.text
    saved = _post(
        manager,
        f"/settings/inbox/forms/{form.id}",
        {"name": "NPS 2027", "title": "Recommend us?", "nps": "on"},
    )
    assert saved.status_code == 303
    page = manager.get("/settings/inbox/forms")
    archived = manager.post(
        f"/settings/inbox/forms/{form.id}/archive", data={"csrf_token": csrf(page)}
    )
    listed = manager.get(archived.headers["location"])
    assert toast(listed) == "Archived the form NPS 2027: its links stop taking answers."
    assert "Archived</span>" in listed.text
    with database.unit_of_work(write=False) as session:
        assert forms.get_form(session, form.id).archived is True


def test_bad_form_input_is_named_beside_its_field(manager: TestClient) -> None:
    missing = _post(manager, "/settings/inbox/forms/new", {"name": "NPS", "title": ""})
    assert missing.status_code == 422
    assert field_errors(missing) == {"title": "Fill this in."}
    unknown = _post(
        manager, "/settings/inbox/forms/new", {"name": "NPS", "title": "Q", "groups": "999"}
    )
    assert unknown.status_code == 422
    assert field_errors(unknown) == {"groups": "Is not an active group."}
    _post(manager, "/settings/inbox/forms/new", {"name": "Taken", "title": "Q"})
    taken = _post(manager, "/settings/inbox/forms/new", {"name": "Taken", "title": "Q"})
    assert field_errors(taken) == {"name": "Another form has this name."}


# Classifications.


def test_classifications_are_listed_with_their_colour_created_edited_and_archived(
    manager: TestClient, database: Database
) -> None:
    assert "No classifications yet" in manager.get("/settings/inbox/classifications").text
    new = manager.get("/settings/inbox/classifications/new")
    assert 'type="color" value="#4f46e5"' in new.text
    created = _post(
        manager,
        "/settings/inbox/classifications/new",
        {"name": "Complaint", "description": "Unhappy", "colour": "#D9480F"},
    )
    assert created.status_code == 303, created.text[:2000]
    listed = manager.get(created.headers["location"])
    assert toast(listed) == "Created the classification Complaint."
    assert '<rect x="0.5" y="0.5" width="15" height="15" rx="3" fill="#d9480f"/>' in listed.text
    with database.unit_of_work(write=False) as session:
        (row,) = classifications.list_classifications(session)
    saved = _post(
        manager,
        f"/settings/inbox/classifications/{row.id}",
        {"name": "Complaints", "description": "", "colour": "#2b8a3e"},
    )
    assert saved.status_code == 303
    archived = _post(manager, f"/settings/inbox/classifications/{row.id}/archive", {})
    assert archived.status_code == 303
    listed = manager.get(archived.headers["location"])
    assert toast(listed) == (
        "Archived the classification Complaints: it stays on mentions, rules and agents "
        "cannot apply it anew."
    )
    assert "No classifications yet" in listed.text  # the active tab is empty now
    shown = manager.get("/settings/inbox/classifications?show=archived")
    assert "#2b8a3e" in shown.text
    assert 'Complaints</a> <span class="badge badge--muted">' in shown.text
    restored = _post(manager, f"/settings/inbox/classifications/{row.id}/restore", {})
    assert toast(manager.get(restored.headers["location"])) == (
        "Restored the classification Complaints."
    )


def test_bad_classification_input_is_named_beside_its_field(manager: TestClient) -> None:
    bad = _post(manager, "/settings/inbox/classifications/new", {"name": "Red", "colour": "red"})
    assert bad.status_code == 422
    assert field_errors(bad) == {"colour": "Must be a colour written #rrggbb."}
    blank = _post(
        manager, "/settings/inbox/classifications/new", {"name": " ", "colour": "#ffffff"}
    )
    assert field_errors(blank) == {"name": "Must not be blank."}
    _post(manager, "/settings/inbox/classifications/new", {"name": "Praise", "colour": "#ffffff"})
    taken = _post(
        manager, "/settings/inbox/classifications/new", {"name": "Praise", "colour": "#000000"}
    )
    assert field_errors(taken) == {"name": "A classification with this name already exists."}


# Rules.


def _queue(database: Database, clock: FakeClock, name: str = "Social") -> str:
    with database.unit_of_work() as session:
        return queues.create_queue(session, name, clock.now).id


def _classification(
    database: Database, clock: FakeClock, name: str, *, archived: bool = False
) -> int:
    with database.unit_of_work() as session:
        row = classifications.create(session, name=name, colour="#123456", now=clock.now)
        if archived:
            classifications.archive(session, row.id, clock.now)
        return row.id


def test_rules_are_created_listed_in_order_edited_moved_and_disabled(
    manager: TestClient,
    database: Database,
    clock: FakeClock,
    people: dict[str, ConsoleUser],
) -> None:
    queue_id = _queue(database, clock)
    complaint = _classification(database, clock, "Complaint")
    _classification(database, clock, "Old label", archived=True)
    billing = _group(database, clock, "Billing")
    rules_path = f"/settings/inbox/queues/{queue_id}/rules"
    assert "No rules yet" in manager.get(rules_path).text
    new = manager.get(f"{rules_path}/new")
    assert "Complaint" in new.text
    assert "Old label" not in new.text  # archived classifications cannot be applied
    created = _post(
        manager,
        f"{rules_path}/new",
        {
            "name": "Refunds",
            "enabled": "on",
            "terms": "refund\nmoney back",
            "source_types": "Twitter, email",
            "authors": "",
            "classify": [str(complaint)],
            "state": "",
            "assign": f"group:{billing}",
            "redact": ["cards", "emails"],
        },
    )
    assert created.status_code == 303, created.text[:3000]
    listed = manager.get(created.headers["location"])
    assert toast(listed) == "Created the rule Refunds. It runs on new mentions from now on."
    assert "refund, money back" in listed.text
    assert "Billing (group)" in listed.text
    assert "card numbers, email addresses" in listed.text
    second = _post(
        manager,
        f"{rules_path}/new",
        {"name": "Spam", "enabled": "on", "authors": "spam_bot", "state": "irrelevant"},
    )
    assert second.status_code == 303
    with database.unit_of_work(write=False) as session:
        refunds, spam = rules_service.list_rules(session, queue_id)
    assert refunds.conditions["source_types"] == ["twitter", "email"]
    assert refunds.actions["assign"] == {"group_id": billing}
    assert spam.actions["state"] == "irrelevant"
    # The form shows the stored rule again.
    form = manager.get(f"/settings/inbox/rules/{refunds.id}")
    assert f'value="{complaint}" checked' in form.text
    assert f'<option value="group:{billing}" selected>' in form.text
    saved = _post(
        manager,
        f"/settings/inbox/rules/{refunds.id}",
        {
            "name": "Refund requests",
            "terms": "refund",
            "assign": f"user:{people['agent'].id}",
            "stop": "on",
        },
    )
    assert saved.status_code == 303, saved.text[:3000]
    moved = _post(manager, f"/settings/inbox/rules/{spam.id}/up", {})
    assert toast(manager.get(moved.headers["location"])) == "Moved the rule Spam."
    disabled = _post(manager, f"/settings/inbox/rules/{spam.id}/disable", {})
    listed = manager.get(disabled.headers["location"])
    assert toast(listed) == "Disabled the rule Spam: it no longer runs."
    assert listed.text.index("Spam") < listed.text.index("Refund requests")
    with database.unit_of_work(write=False) as session:
        first, after = rules_service.list_rules(session, queue_id)
    assert (first.id, first.enabled) == (spam.id, False)
    assert (after.name, after.enabled, after.stop) == ("Refund requests", False, True)
    assert after.actions["assign"] == {"user_id": people["agent"].id}
    deleted = _post(manager, f"/settings/inbox/rules/{spam.id}/delete", {})
    assert toast(manager.get(deleted.headers["location"])) == "Deleted the rule Spam."


def test_bad_rules_are_named_beside_their_fields(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    queue_id = _queue(database, clock)
    archived = _classification(database, clock, "Gone", archived=True)
    path = f"/settings/inbox/queues/{queue_id}/rules/new"
    nothing = _post(manager, path, {"name": "Empty", "state": "irrelevant"})
    assert nothing.status_code == 422
    assert field_errors(nothing) == {"terms": "Give at least one of terms, source_types, authors."}
    stale = _post(manager, path, {"name": "Old", "terms": "x", "classify": str(archived)})
    assert field_errors(stale) == {"classify": "Is archived."}
    both = _post(
        manager, path, {"name": "Both", "terms": "x", "state": "closed", "assign": "user:1"}
    )
    assert field_errors(both) == {"state": "A rule that assigns cannot also close."}
    nobody = _post(manager, path, {"name": "Who", "terms": "x", "assign": "user:99999"})
    assert field_errors(nobody) == {"assign": "No such user."}
    forged = _post(manager, path, {"name": "Forged", "terms": "x", "assign": "robot:1"})
    assert field_errors(forged) == {"assign": "Choose a person or a group from the list."}
    no_action = _post(manager, path, {"name": "Idle", "terms": "x"})
    assert no_action.status_code == 422
    assert form_error(no_action) == (
        "actions: Give at least one of classify, state, assign, redact."
    )


# SLA policies.


def test_sla_policies_are_listed_created_in_minutes_or_hours_and_edited(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    listed = manager.get("/settings/inbox/sla-policies")
    assert listed.status_code == 200
    assert '<span class="badge">Default</span>' in listed.text  # created on first use
    created = _post(
        manager,
        "/settings/inbox/sla-policies/new",
        {
            "name": "VIP",
            "customer_sla": "30",
            "customer_sla_unit": "minutes",
            "agent_sla": "1",
            "agent_sla_unit": "hours",
            "business_hours_id": "",
        },
    )
    assert created.status_code == 303, created.text[:3000]
    listed = manager.get(created.headers["location"])
    assert toast(listed) == "Created the SLA policy VIP. Choose it on a queue to use it."
    assert "<td>30 minutes</td>" in listed.text
    assert "<td>1 hour</td>" in listed.text
    with database.unit_of_work(write=False) as session:
        vip = next(p for p in policies.list_policies(session) if p.name == "VIP")
    assert (vip.customer_sla_seconds, vip.agent_sla_seconds) == (1800, 3600)
    form = manager.get(f"/settings/inbox/sla-policies/{vip.id}")
    assert '<option value="minutes" selected>' in form.text
    saved = _post(
        manager,
        f"/settings/inbox/sla-policies/{vip.id}",
        {
            "name": "VIP",
            "customer_sla": "4",
            "customer_sla_unit": "hours",
            "agent_sla": "90",
            "agent_sla_unit": "minutes",
            "is_default": "on",
        },
    )
    assert saved.status_code == 303, saved.text[:3000]
    with database.unit_of_work(write=False) as session:
        vip = policies.get_policy(session, vip.id)
        assert (vip.customer_sla_seconds, vip.agent_sla_seconds, vip.is_default) == (
            14400,
            5400,
            True,
        )
    # The queue form offers it.
    assert (
        f'<option value="{vip.id}">VIP</option>' in manager.get("/settings/inbox/queues/new").text
    )


def test_a_policy_in_use_is_not_deleted_and_the_page_says_why(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    _post(
        manager,
        "/settings/inbox/sla-policies/new",
        {"name": "Slow", "customer_sla": "8", "agent_sla": "8"},
    )
    with database.unit_of_work() as session:
        slow = next(p for p in policies.list_policies(session) if p.name == "Slow")
        queues.create_queue(session, "Email", clock.now, sla_policy_id=slow.id)
    refused = _post(manager, f"/settings/inbox/sla-policies/{slow.id}/delete", {})
    assert refused.status_code == 409
    assert "Queues use this SLA policy" in (form_error(refused) or "")


def test_bad_policy_input_is_named_beside_its_field(manager: TestClient) -> None:
    bad = _post(
        manager,
        "/settings/inbox/sla-policies/new",
        {"name": "Fast", "customer_sla": "soon", "agent_sla": "0"},
    )
    assert bad.status_code == 422
    assert field_errors(bad) == {
        "customer_sla": "Enter a whole number.",
        "agent_sla": "Enter a number at least 1.",
    }
    huge = _post(
        manager,
        "/settings/inbox/sla-policies/new",
        {"name": "Huge", "customer_sla": "9000", "customer_sla_unit": "hours", "agent_sla": "1"},
    )
    assert field_errors(huge) == {"customer_sla": "Enter at least 1 minute and at most 366 days."}
    _post(
        manager,
        "/settings/inbox/sla-policies/new",
        {"name": "A", "customer_sla": "1", "agent_sla": "1"},
    )
    taken = _post(
        manager,
        "/settings/inbox/sla-policies/new",
        {"name": "A", "customer_sla": "1", "agent_sla": "1"},
    )
    assert field_errors(taken) == {"name": "Another SLA policy is named 'A'."}


# Workflow settings.


def test_workflow_settings_are_shown_and_saved(
    manager: TestClient, database: Database, settings: Settings, clock: FakeClock
) -> None:
    with database.unit_of_work() as session:
        hook = destinations.create_destination(
            session,
            DestinationIn(
                name="Replies hook", kind="webhook", config={"url": "https://hooks.example/r"}
            ),
            settings=settings,
            now=clock.now,
            created_by="test",
        )
        nps = forms.create_form(
            session,
            name="NPS",
            title="Recommend us?",
            nps=True,
            groups=[],
            comment_prompt="",
            now=clock.now,
        )
        form_id = nps.id
    page = manager.get("/settings/inbox/workflow")
    assert page.status_code == 200
    assert 'id="case_timeout" name="case_timeout" type="text" value="1"' in page.text
    assert '<option value="days" selected>' in page.text  # 24 h reads as 1 day
    assert f'<option value="{hook.id}">Replies hook</option>' in page.text
    saved = _post(
        manager,
        "/settings/inbox/workflow",
        {
            "case_timeout": "12",
            "case_timeout_unit": "hours",
            "idle_offline": "45",
            "idle_offline_unit": "minutes",
            "reply_destination_id": hook.id,
            "nps_form_id": str(form_id),
        },
    )
    assert saved.status_code == 303, saved.text[:3000]
    shown = manager.get(saved.headers["location"])
    assert toast(shown) == "Saved the workflow settings."
    with database.unit_of_work(write=False) as session:
        row = inbox_settings.get_settings(session)
        assert (row.case_timeout_seconds, row.idle_offline_seconds) == (43200, 2700)
        assert (row.reply_destination_id, row.nps_form_id) == (hook.id, form_id)


def test_bad_workflow_settings_are_named_beside_their_fields(manager: TestClient) -> None:
    bad = _post(
        manager,
        "/settings/inbox/workflow",
        {
            "case_timeout": "100",
            "case_timeout_unit": "days",
            "idle_offline": "",
            "reply_destination_id": "dst_nope",
            "nps_form_id": "42",
        },
    )
    assert bad.status_code == 422
    assert field_errors(bad) == {"idle_offline": "Enter a whole number."}
    wrong = _post(
        manager,
        "/settings/inbox/workflow",
        {
            "case_timeout": "100",
            "case_timeout_unit": "days",
            "idle_offline": "30",
            "reply_destination_id": "dst_nope",
            "nps_form_id": "42",
        },
    )
    assert field_errors(wrong) == {
        "case_timeout": "Enter at least 1 minute and at most 90 days.",
        "reply_destination_id": "Must be a webhook destination.",
        "nps_form_id": "Must be an NPS form that is not archived.",
    }


# Business hours.


def _hours_form(**rows: list[str]) -> dict[str, object]:
    return {"name": "Sydney", "timezone": "Australia/Sydney", **rows}


def test_business_hours_with_a_night_shift_and_holidays_are_created_and_edited(
    manager: TestClient, database: Database
) -> None:
    new = manager.get("/settings/inbox/business-hours/new")
    assert new.text.count('value="09:00"') == 5  # Monday to Friday, to start from
    created = _post(
        manager,
        "/settings/inbox/business-hours/new",
        _hours_form(
            interval_weekday=["0", "4", "1"],
            interval_start=["09:00", "22:00", ""],
            interval_end=["17:00", "06:00", ""],
            holiday_date=["2026-12-25", "2026-12-24", ""],
            holiday_name=["Christmas", "Christmas Eve", ""],
            holiday_start=["", "12:00", ""],
            holiday_end=["", "17:00", ""],
        ),
    )
    assert created.status_code == 303, created.text[:3000]
    listed = manager.get(created.headers["location"])
    assert toast(listed) == (
        "Created the business hours Sydney. Choose them on an SLA policy to use them."
    )
    assert "Mon 09:00 to 17:00; Fri 22:00 to 06:00" in listed.text
    with database.unit_of_work(write=False) as session:
        (hours,) = policies.list_hours(session)
        assert hours.intervals == [
            {"weekday": 0, "start": "09:00", "end": "17:00"},
            {"weekday": 4, "start": "22:00", "end": "06:00"},
        ]
        assert hours.holidays == [
            {"date": "2026-12-24", "name": "Christmas Eve", "start": "12:00", "end": "17:00"},
            {"date": "2026-12-25", "name": "Christmas", "start": None, "end": None},
        ]
    form = manager.get(f"/settings/inbox/business-hours/{hours.id}")
    assert 'value="Christmas Eve"' in form.text
    saved = _post(
        manager,
        f"/settings/inbox/business-hours/{hours.id}",
        _hours_form(
            interval_weekday=["5"],
            interval_start=["10:00"],
            interval_end=["14:00"],
        ),
    )
    assert saved.status_code == 303, saved.text[:3000]
    assert "Sat 10:00 to 14:00" in manager.get("/settings/inbox/business-hours").text
    # A policy measured in them; then they cannot be deleted, and the list says why.
    assert (
        f'<option value="{hours.id}">Sydney</option>'
        in manager.get("/settings/inbox/sla-policies/new").text
    )
    _post(
        manager,
        "/settings/inbox/sla-policies/new",
        {"name": "Office", "customer_sla": "1", "agent_sla": "1", "business_hours_id": hours.id},
    )
    refused = _post(manager, f"/settings/inbox/business-hours/{hours.id}/delete", {})
    assert refused.status_code == 409
    assert (form_error(refused) or "").startswith("SLA policies use these hours: Office")


def test_bad_business_hours_are_named_beside_the_row_they_came_from(
    manager: TestClient,
) -> None:
    bad = _post(
        manager,
        "/settings/inbox/business-hours/new",
        {
            "name": "Broken",
            "timezone": "Mars/Olympus",
            "interval_weekday": ["0", "0", "2"],
            "interval_start": ["", "09:00", "25:00"],
            "interval_end": ["", "17:00", "18:00"],
            "holiday_date": ["2026-13-01", "2026-01-02"],
            "holiday_name": ["", ""],
            "holiday_start": ["", "15:00"],
            "holiday_end": ["", "11:00"],
        },
    )
    assert bad.status_code == 422
    assert field_errors(bad) == {
        "timezone": "Must be an IANA time zone, e.g. Europe/Paris.",
        "interval-2-start": "Must be HH:MM, 00:00 to 23:59.",
        "holiday-0-date": "Must be a date, YYYY-MM-DD.",
        "holiday-1-end": "Must be after start.",
    }
    assert 'value="25:00"' in bad.text  # the rows are kept as typed
    overlap = _post(
        manager,
        "/settings/inbox/business-hours/new",
        _hours_form(
            interval_weekday=["0", "0"],
            interval_start=["09:00", "12:00"],
            interval_end=["17:00", "20:00"],
        ),
    )
    assert field_errors(overlap) == {
        "interval-1-start": "Overlaps another interval of this schedule."
    }
    empty = _post(manager, "/settings/inbox/business-hours/new", _hours_form())
    assert field_errors(empty) == {"intervals": "Must list at least one interval."}
