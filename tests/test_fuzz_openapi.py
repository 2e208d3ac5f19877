"""A seeded, schema-driven fuzz of every operation in the OpenAPI document, on each engine.

Schemathesis reads the app's own document in-process and sends every operation generated
requests, valid and invalid, with an admin token, against a database seeded so that real ids
are reached as well as made-up ones. It fails on any 5xx and on any answer the document does
not describe: an undocumented status, content type or header, or a body not matching the
response's schema. docs/development.md says what it covers, its budget, how to run it alone
and how to reproduce a failure from its seed.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import schemathesis
import schemathesis.engine
from fastapi.testclient import TestClient
from schemathesis.engine import events
from schemathesis.engine.statistic import Statistic
from schemathesis.python import asgi

from carebase.app import create_app
from carebase.db.session import Database
from carebase.inbox import mentions, replies
from carebase.inbox.workflow import Actor
from carebase.recordtypes import REGISTRY
from carebase.settings import DEFAULT_RATE_LIMITS
from tests.conftest import FakeClock, make_token, test_settings
from tests.helpers import auth, create_dataset, post_records, ticket

# The same seed (and code) generates the same requests.
SEED = int(os.environ.get("CAREBASE_FUZZ_SEED", "20261123"))
# Generated cases per operation in the fuzzing phase; the budget (docs/development.md).
MAX_EXAMPLES = int(os.environ.get("CAREBASE_FUZZ_EXAMPLES", "10"))
# Steps per stateful scenario (sequences of calls that feed one answer's ids to the next).
STATEFUL_STEPS = int(os.environ.get("CAREBASE_FUZZ_STATEFUL_STEPS", "6"))
# Seeded ids are offered for path parameters this often; the rest are made up.
REAL_ID_PROBABILITY = 0.5

# Operations that answer 422 to some requests the document calls valid, because the rule is
# one JSON Schema cannot state; the 422 names the field. Elsewhere a valid request must not be
# refused (the positive_data_acceptance check).
UNSTATABLE_RULES: dict[str, str] = {
    "listWebhookDeliveries": "`cursor` must be one the API gave (it is opaque)",
    "listJobs": "`cursor` must be one the API gave; `status` must be a job status",
    "listSuppressions": "`cursor` must be one the API gave",
    "listIngestionLogs": "`cursor` must be one the API gave",
    "getProfileHistory": "`cursor` must be one the API gave; `type` is a comma-separated list",
    "getProfileByLink": "an external_id needs a system_name",
    "createConnector": "`credentials` must be those of the connector's `kind`",
    "createToken": "`name` must not be blank; each scope must be a known one",
    "createDataset": "`name` must not be blank",
    "receiveHelpdeskWebhook": "the event must name a ticket the way the connector's helpdesk does",
    "listProfileNotes": "`cursor` must be one the API gave",
    "searchEvents": "`cursor` must be one the API gave; `where` must name the event's fields "
    "with operators and values that fit them; `window_days` at most the installation's window",
    "createProfileNote": "`author_id` must be an active user",
    "editProfileNote": "`author_id` must be an active user",
    "deleteProfileNote": "`author_id` must be an active user",
    "restoreProfileNote": "`author_id` must be an active user",
    # Not a rule the document misses: 2**63 - 1 and numbers just above it are one binary64
    # number, which the check compares in, so it calls a group id past the maximum valid.
    "listSavedQueries": "`cursor` must be one the API gave",
    "runQuery": "`sql` must be one SELECT over the published views (else 400)",
    "createSavedQuery": "`sql` must be one SELECT over the published views (else 400)",
    "updateSavedQuery": "`sql` must be one SELECT over the published views (else 400)",
    "createUser": "a group id must be at most 2**63 - 1 (exactly)",
    "getActivityExportStatus": "one of `token` and `status` (both optional) is required",
    "updateUser": "a group id must be at most 2**63 - 1 (exactly)",
    "createSegment": "`definition` must be a condition tree over known fields; `name` not blank",
    "updateSegment": "`definition` must be a condition tree over known fields; `name` not blank",
    "previewSegment": "`definition` must be a condition tree over known fields",
    "listSegmentMembers": "`cursor` must be one the API gave; `attributes` catalogue names",
    "exportSegmentMembers": "`attributes` must be catalogue attribute names",
    "listSegmentVersions": "`cursor` must be one the API gave",
    "listDestinations": "`cursor` must be one the API gave",
    "createDestination": "`config` and `secrets` must be those of the destination's `kind`",
    "updateDestination": "`config` and `secrets` must be those of the destination's `kind`",
    "listOrchestrations": "`cursor` must be one the API gave",
    "createOrchestration": "`destination_id` and `source.id` must exist; `source.attributes` "
    "customer_360 columns; `sync_mode` one the destination supports; `schedule` a cron "
    "expression in an IANA zone",
    "updateOrchestration": "`destination_id` and `source.id` must exist; `source.attributes` "
    "customer_360 columns; `sync_mode` one the destination supports; `schedule` a cron "
    "expression in an IANA zone",
    "startOrchestrationRun": "`full_resync` and `only_failed` do not go together",
    "listOrchestrationRuns": "`cursor` must be one the API gave",
    "listRunRecords": "`cursor` must be one the API gave",
    "listMentions": "`cursor` must be one the API gave; the `mine` tab needs `user_id`",
    "claimMention": "`user_id` must be an active user",
    "assignMention": "`user_id` and `assignee_id` active users; exactly one of assignee_id or "
    "group_id; the group not archived",
    "unassignMention": "`user_id` must be an active user",
    "setMentionState": "`user_id` must be an active user",
    "setMentionFollowUp": "`user_id` must be an active user",
    "classifyMention": "`user_id` must be an active user",
    "unclassifyMention": "`user_id` must be an active user",
    "bulkChangeMentions": "`user_id` must be an active user",
    "setPresence": "the user must not be archived",
    "createClassification": "`name` must not be blank",
    "updateClassification": "`name` must not be blank; a field given must not be null",
    "createQueue": "`name` must not be blank",
    "updateQueue": "`name` must not be blank; `sla_policy_id` must exist",
    "listRules": "`queue_id` must exist",
    "createRule": "`queue_id` must exist; a condition given; classifications, users and groups "
    "named must exist and not be archived; a state and an assignment do not go together",
    "updateRule": "`name` must not be blank; a condition given; classifications, users and "
    "groups named must exist and not be archived",
    "reorderRules": "`rule_ids` must be every rule of the queue `queue_id`, once",
    "createIgnoredSender": "`pattern` must hold more than `*`",
    "updateIgnoredSender": "`pattern` must hold more than `*`",
    "listCases": "`cursor` must be one the API gave",
    "createSlaPolicy": "`business_hours_id` must exist; `name` not blank",
    "updateSlaPolicy": "`business_hours_id` must exist; `name` not blank; the default stays",
    "createBusinessHours": "an IANA zone, HH:MM times, weekday 0-6, YYYY-MM-DD dates, "
    "intervals that do not overlap; `name` not blank",
    "updateBusinessHours": "an IANA zone, HH:MM times, weekday 0-6, YYYY-MM-DD dates, "
    "intervals that do not overlap; `name` not blank",
    "updateInboxSettings": "`reply_destination_id` a webhook destination, `nps_form_id` an NPS "
    "form; a timeout not null",
    "createForm": "`groups` must be active groups; `name` and `title` not blank",
    "updateForm": "`groups` must be active groups; `name` and `title` not blank",
    "listFormResponses": "`cursor` must be one the API gave",
    "sendCaseSurvey": "`user_id` must be an active user; `form_id` a form that is not "
    "archived, required when the inbox settings name no NPS form",
    # Inbox replies (inbox-replies).
    "draftResponse": "`user_id` must be an active user; `body` not blank; `template_id` live",
    "editResponse": "`user_id` must be an active user; `body` not blank",
    "submitResponse": "`user_id` must be an active user",
    "approveResponse": "`user_id` must be an active user",
    "rejectResponse": "`user_id` must be an active user; `comment` not blank",
    "discardResponse": "`user_id` must be an active user",
    "listResponses": "`cursor` must be one the API gave",
    "createTemplate": "`body` must be a valid template; `name` not blank; groups must exist",
    "updateTemplate": "`body` must be a valid template; `name` not blank; groups must exist",
    "renderTemplate": "the template may not use what the sandbox refuses, nor fail, nor make "
    "anything larger than a reply",
    # Activity reports (S11): the rules are the reference's, answered 400 `invalid_report`.
    "runActivityReport": "`type` a report type; dates ISO 8601, at most 12 months apart, "
    "starting in the past; `time_zone` an IANA zone; `nps_category` one of four; `form` an "
    "NPS form, required by nps_summary and nps_volume",
}

# The check's own default, which the operations above extend with 422.
VALID_REQUEST_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# Operations whose body is SQL: any text the schema allows, refused by the SQL gate with 400
# (`sql_refused`, `sql_syntax_error`) unless it is one SELECT over the published views.
SQL_OPERATIONS = frozenset({"runQuery", "createSavedQuery", "updateSavedQuery"})
# Operations whose rules answer 400 with the reference's wording (Activity's invalid_report).
REPORT_OPERATIONS = frozenset({"runActivityReport"})

NO_IDS_FROM_ANSWERS = {"extra-data-sources": {"responses": False}}

# Path parameters `<name>_id` offered the seeded rows of dictionary `<name>`.
INBOX_PATH_IDS = (
    "user",
    "group",
    "mention",
    "classification",
    "queue",
    "rule",
    "template",
    "form",
    "policy",
    "hours",
    "sender",
    "response",
    "case",
)
# Inbox body fields and query parameters that name rows, and the seeded rows they are offered:
# the inbox's workflow acts as a real agent, on real mentions, groups and classifications.
INBOX_FIELD_IDS = {
    "body.user_id": "user",
    "query.user_id": "user",
    "body.assignee_id": "user",
    "query.assignee_id": "user",
    "query.author_id": "user",
    "body.group_id": "group",
    "query.group_id": "group",
    "body.groups[*]": "group",
    "body.group_ids[*]": "group",
    "body.mention_ids[*]": "mention",
    "query.mention_id": "mention",
    "body.classification_id": "classification",
    "query.classification_id": "classification",
    "body.queue_id": "queue",
    "query.queue_id": "queue",
    "body.rule_ids[*]": "rule",
    "body.template_id": "template",
    "body.form_id": "form",
    "body.nps_form_id": "form",
    "body.sla_policy_id": "policy",
    "body.business_hours_id": "hours",
    "body.reply_destination_id": "destination",
    "body.profile_id": "profile",
    "query.profile_id": "profile",
}
# (operation, parameter, dictionary): destructive inbox operations, and those that would take
# a kept row out of use (an archived user, group or classification), get deletable rows.
DESTRUCTIVE_INBOX = (
    ("archiveUser", "path.user_id", "deletable_user"),
    ("archiveGroup", "path.group_id", "deletable_group"),
    ("deleteClassification", "path.classification_id", "deletable_classification"),
    ("archiveClassification", "path.classification_id", "deletable_classification"),
    ("deleteQueue", "path.queue_id", "deletable_queue"),
    ("archiveQueue", "path.queue_id", "deletable_queue"),
    ("deleteRule", "path.rule_id", "deletable_rule"),
    ("deleteIgnoredSender", "path.sender_id", "deletable_sender"),
    ("deleteTemplate", "path.template_id", "deletable_template"),
    ("deleteSlaPolicy", "path.policy_id", "deletable_policy"),
    ("deleteBusinessHours", "path.hours_id", "deletable_hours"),
    ("discardResponse", "path.response_id", "deletable_response"),
)
# Review operations: the reply awaiting approval, reviewed by a manager of their own.
REVIEW_INBOX = ("approveResponse", "rejectResponse")

GORGIAS_CREDENTIALS = {"username": "api@acme.com", "api_key": "gg-key"}


@dataclass
class Seeded:
    """Ids of rows made before the fuzz, offered to it as parameter values."""

    datasets: dict[str, str] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    forgettable: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    merged_profiles: list[str] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    suppressions: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    connectors: list[str] = field(default_factory=list)
    deletable_connectors: list[str] = field(default_factory=list)
    webhook_secret: str = ""
    jobs: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    deletable_segments: list[str] = field(default_factory=list)
    destinations: list[str] = field(default_factory=list)
    deletable_destinations: list[str] = field(default_factory=list)
    orchestrations: list[str] = field(default_factory=list)
    deletable_orchestrations: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    # The inbox's (seed_inbox): a console manager and a group; the rest are string ids.
    users: list[int] = field(default_factory=list)
    deletable_users: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    deletable_groups: list[int] = field(default_factory=list)
    inbox: dict[str, list[Any]] = field(default_factory=dict)


def seed(client: TestClient, admin: str, database: Database, now: datetime) -> Seeded:
    """A dataset per record type; profiles, two of them merged and one forgotten (so a
    suppression exists); a second token; two connectors, one with a webhook delivery and its
    queued job; destinations and orchestrations; the inbox's rows."""
    seeded = Seeded()
    for name in REGISTRY:
        seeded.datasets[name] = create_dataset(client, admin, f"{name} data", name)
    tickets = seeded.datasets["customer_support_ticket"]
    people = [f"fuzz{n}@example.com" for n in range(6)]
    batch = [ticket(f"T{n}", link={"email": email}) for n, email in enumerate(people)]
    # Two tickets give the first two people one customer_id: their profiles merge.
    batch += [
        ticket("T-merge-0", link={"email": people[0], "customer_id": "c-0"}),
        ticket("T-merge-1", link={"email": people[1], "customer_id": "c-0"}),
    ]
    post_records(client, admin, tickets, "customer_support_ticket", batch)
    profiles: list[str] = []
    for email in people:
        found = client.get(f"/v1/profiles/by/email/{email}", headers=auth(admin))
        assert found.status_code == 200, found.text
        if found.json()["id"] not in profiles:
            profiles.append(found.json()["id"])
    seeded.profiles, seeded.forgettable = profiles[:-2], profiles[-2:]
    seeded.emails = people[:4]
    for profile_id in seeded.profiles:
        merges = client.get(f"/v1/profiles/{profile_id}/merges", headers=auth(admin)).json()
        if merges["merges"]:
            seeded.merged_profiles.append(profile_id)
            seeded.merges += [merge["id"] for merge in merges["merges"]]
    assert seeded.merges, "the seed's two tickets sharing a customer_id merged nobody"
    # Forgetting a profile puts its links on the suppression list.
    forgotten = seeded.forgettable.pop()
    assert client.delete(f"/v1/profiles/{forgotten}", headers=auth(admin)).status_code == 200
    seeded.suppressions = [
        item["id"] for item in client.get("/v1/suppressions", headers=auth(admin)).json()["items"]
    ]
    make_token(database, "profiles:read", name="reader")
    tokens = client.get("/v1/tokens", headers=auth(admin)).json()["tokens"]
    seeded.tokens = [token["id"] for token in tokens if token["name"] == "reader"]
    for name in ("kept", "deletable"):
        body = {
            "kind": "gorgias",
            "name": name,
            "domain": "acme",
            "dataset_id": tickets,
            "credentials": GORGIAS_CREDENTIALS,
        }
        created = client.post("/v1/connectors", json=body, headers=auth(admin))
        assert created.status_code == 201, created.text
        if name == "deletable":
            seeded.deletable_connectors.append(created.json()["id"])
            continue
        seeded.connectors.append(created.json()["id"])
        seeded.webhook_secret = created.json()["webhook_secret"]
        delivered = client.post(
            f"/v1/connectors/{created.json()['id']}/webhook",
            json={"ticket": {"id": 1}},
            headers={"X-Carebase-Webhook-Secret": seeded.webhook_secret},
        )
        assert delivered.status_code == 202, delivered.text
    for name in ("kept segment", "deletable segment"):
        definition = {"type": "attribute", "field": "ticket_count", "op": "gte", "value": 1}
        created = client.post(
            "/v1/segments", json={"name": name, "definition": definition}, headers=auth(admin)
        )
        assert created.status_code == 201, created.text
        kept = name == "kept segment"
        (seeded.segments if kept else seeded.deletable_segments).append(created.json()["id"])
    seed_activation(client, admin, seeded)
    seed_inbox(client, admin, seeded, database, now)
    seeded.jobs = [job["id"] for job in client.get("/v1/jobs", headers=auth(admin)).json()["items"]]
    assert seeded.jobs, "the webhook delivery queued no job"
    return seeded


def seed_activation(client: TestClient, admin: str, seeded: Seeded) -> None:
    """Two webhook destinations (one deletable) aimed at a loopback port, which the fuzz's
    settings refuse without a connection (a connection test answers at once); two
    orchestrations of the kept segment (one deletable), the kept one with a waiting run."""
    for name in ("kept destination", "deletable destination"):
        body = {"name": name, "kind": "webhook", "config": {"url": "https://127.0.0.1:9/hook"}}
        created = client.post("/v1/destinations", json=body, headers=auth(admin))
        assert created.status_code == 201, created.text
        kept = name == "kept destination"
        (seeded.destinations if kept else seeded.deletable_destinations).append(
            created.json()["id"]
        )
    for name in ("kept orchestration", "deletable orchestration"):
        body = {
            "name": name,
            "destination_id": seeded.destinations[0],
            "source": {"type": "segment", "id": seeded.segments[0], "attributes": ["email"]},
        }
        created = client.post("/v1/orchestrations", json=body, headers=auth(admin))
        assert created.status_code == 201, created.text
        kept = name == "kept orchestration"
        (seeded.orchestrations if kept else seeded.deletable_orchestrations).append(
            created.json()["id"]
        )
    started = client.post(
        f"/v1/orchestrations/{seeded.orchestrations[0]}/runs", headers=auth(admin)
    )
    assert started.status_code == 202, started.text
    seeded.runs.append(started.json()["id"])


def seed_inbox(
    client: TestClient, admin: str, seeded: Seeded, database: Database, now: datetime
) -> None:
    """The inbox's rows, kept and deletable: a console manager in a group (and an archivable
    pair), three mentions from seeded people (which make the default queue), classifications,
    queues, rules, ignored senders, templates, an NPS form, business hours, SLA policies, a
    draft response, an agent's reply awaiting approval and a manager to review it, and a case
    opened by a response sent outside the send job."""
    inbox = seeded.inbox

    def made(path: str, body: dict[str, Any]) -> Any:
        created = client.post(path, json=body, headers=auth(admin))
        assert created.status_code == 201, created.text
        return created.json()["id"]

    def pair(name: str, path: str, body: Callable[[str], dict[str, Any]]) -> None:
        inbox[name] = [made(path, body(f"kept {name}"))]
        inbox[f"deletable_{name}"] = [made(path, body(f"deletable {name}"))]

    for kept in (True, False):
        group = made("/v1/groups", {"name": f"fuzz team {kept}"})
        user = made(
            "/v1/users",
            {
                "email": f"agent-{kept}@fuzz.example",
                "first_name": "Fuzz",
                "role": "manager",
                "groups": [group],
            },
        )
        (seeded.groups if kept else seeded.deletable_groups).append(group)
        (seeded.users if kept else seeded.deletable_users).append(user)
    records = [
        {
            "mention_id": f"fuzz-{n}",
            "source_type": "twitter",
            "author": {"id": f"twitter_{n}", "username": f"@fuzz{n}"},
            "link": {"email": email},
            "text": "My refund never arrived",
            "published_at": "2026-11-23T11:00:00Z",
        }
        for n, email in enumerate(seeded.emails[:3])
    ]
    post_records(client, admin, seeded.datasets["mention"], "mention", records)
    listed = client.get("/v1/mentions", headers=auth(admin))
    assert listed.status_code == 200, listed.text
    inbox["mention"] = [item["id"] for item in listed.json()["items"]]
    assert len(inbox["mention"]) == len(records), listed.text
    pair("classification", "/v1/classifications", lambda name: {"name": name, "colour": "#1f77b4"})
    queues = client.get("/v1/queues", headers=auth(admin)).json()
    inbox["queue"] = [queue["id"] for queue in queues]
    inbox["deletable_queue"] = [made("/v1/queues", {"name": "deletable queue"})]
    pair(
        "rule",
        "/v1/rules",
        lambda name: {
            "queue_id": inbox["queue"][0],
            "name": name,
            "conditions": {"terms": ["refund"]},
            "actions": {"classify": inbox["classification"]},
        },
    )
    pair("sender", "/v1/ignored-senders", lambda name: {"pattern": f"{name.split()[0]}*"})
    pair("template", "/v1/templates", lambda name: {"name": name, "body": "Hello {{ name }}"})
    inbox["form"] = [made("/v1/forms", {"name": "NPS", "title": "How did we do?", "nps": True})]
    week = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)]
    pair(
        "hours",
        "/v1/business-hours",
        lambda name: {"name": name, "timezone": "Australia/Sydney", "intervals": week},
    )
    pair(
        "policy",
        "/v1/sla-policies",
        lambda name: {
            "name": name,
            "customer_sla_seconds": 3600,
            "agent_sla_seconds": 7200,
            "business_hours_id": inbox["hours"][0],
        },
    )
    agent = seeded.users[0]
    for name in ("response", "deletable_response"):
        body = {"user_id": agent, "body": f"A {name} draft"}
        inbox[name] = [made(f"/v1/mentions/{inbox['mention'][0]}/responses", body)]
    # A reply awaiting approval: by an agent of a group whose replies a manager approves.
    approval = made("/v1/groups", {"name": "fuzz approval team"})
    changed = client.patch(
        f"/v1/groups/{approval}", json={"requires_approval": True}, headers=auth(admin)
    )
    assert changed.status_code == 200, changed.text
    trainee = made(
        "/v1/users",
        {
            "email": "trainee@fuzz.example",
            "first_name": "Fuzz",
            "role": "agent",
            "groups": [approval],
        },
    )
    body = {"user_id": trainee, "body": "A reply for review"}
    inbox["pending_response"] = [made(f"/v1/mentions/{inbox['mention'][2]}/responses", body)]
    submitted = client.post(
        f"/v1/responses/{inbox['pending_response'][0]}/submit",
        json={"user_id": trainee},
        headers=auth(admin),
    )
    assert submitted.json()["status"] == "awaiting_approval", submitted.text
    # Its reviewer is a manager of its own: the fuzz may make the kept one an agent
    # (updateUser), and a reviewer must be a manager.
    reviewer = {"email": "reviewer@fuzz.example", "first_name": "Fuzz", "role": "manager"}
    inbox["reviewer"] = [made("/v1/users", reviewer)]
    # A case opens with a sent response; the fuzz runs no send job, so one is recorded as
    # sent outside it (replies.sent_reply), as the helpdesk sync records an agent's comment.
    with database.unit_of_work() as session:
        mention = mentions.lock_mention(session, inbox["mention"][1])
        sent = replies.sent_reply(mention, at=now, body="On its way", author_id=agent)
        session.add(sent)
        session.flush()
        mentions.mark_responded(session, mention, sent, Actor.user(agent), now)
        assert mention.case_id is not None
        inbox["case"] = [mention.case_id]


def fuzz_config(seeded: Seeded, admin: str) -> schemathesis.Config:
    """Phases, budget, checks, and the seeded ids offered as parameter values."""
    dictionaries: dict[str, list[Any]] = {
        "profile": seeded.profiles,
        "forgettable": seeded.forgettable,
        "email": seeded.emails,
        "merged_profile": seeded.merged_profiles,
        "merge": seeded.merges,
        "suppression": seeded.suppressions,
        "token": seeded.tokens,
        "connector": seeded.connectors,
        "deletable_connector": seeded.deletable_connectors,
        "job": seeded.jobs,
        "segment": seeded.segments,
        "deletable_segment": seeded.deletable_segments,
        "destination": seeded.destinations,
        "deletable_destination": seeded.deletable_destinations,
        "orchestration": seeded.orchestrations,
        "deletable_orchestration": seeded.deletable_orchestrations,
        "run": seeded.runs,
        "dataset": list(seeded.datasets.values()),
        "ticket_dataset": [seeded.datasets["customer_support_ticket"]],
        "user": seeded.users,
        "deletable_user": seeded.deletable_users,
        "group": seeded.groups,
        "deletable_group": seeded.deletable_groups,
        **seeded.inbox,
    }

    def real(dictionary: str) -> dict[str, Any]:
        return {"dictionary": dictionary, "probability": REAL_ID_PROBABILITY}

    operations: list[dict[str, Any]] = [
        # Destructive operations get rows of their own, so the reads keep theirs.
        {
            "include-operation-id": "forgetProfile",
            "parameters": {"path.profile_id": real("forgettable")},
        },
        {
            "include-operation-id": "deleteConnector",
            "parameters": {"path.connector_id": real("deletable_connector")},
        },
        {
            "include-operation-id": "deleteSegment",
            "parameters": {"path.segment_id": real("deletable_segment")},
        },
        {
            "include-operation-id": "deleteDestination",
            "parameters": {"path.destination_id": real("deletable_destination")},
        },
        {
            "include-operation-id": "deleteOrchestration",
            "parameters": {"path.orchestration_id": real("deletable_orchestration")},
        },
        *(
            {"include-operation-id": operation_id, "parameters": {parameter: real(dictionary)}}
            for operation_id, parameter, dictionary in DESTRUCTIVE_INBOX
        ),
        *(
            {
                "include-operation-id": operation_id,
                "parameters": {
                    "path.response_id": real("pending_response"),
                    "body.user_id": real("reviewer"),
                },
            }
            for operation_id in REVIEW_INBOX
        ),
        # A merge is undone through the profile it merged into.
        {
            "include-operation-id": "undoProfileMerge",
            "parameters": {"path.profile_id": real("merged_profile")},
        },
        # Forgetting suppresses a link for good, and the examples and coverage phases build
        # every record type's records around the document's example links: a forget batch
        # there would have every later type's records rejected as suppressed. Forget batches
        # are fuzzed (random links) in the fuzzing phase; tests/ingest and tests/identity
        # cover forgetting.
        {
            "include-operation-id": "ingestForget",
            "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}},
        },
    ]
    for operation_id in UNSTATABLE_RULES:
        operations.append(
            {
                "include-operation-id": operation_id,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [
                            *VALID_REQUEST_STATUSES,
                            "422",
                            *(["400"] if operation_id in SQL_OPERATIONS else []),
                            *(["400"] if operation_id in REPORT_OPERATIONS else []),
                        ]
                    }
                },
            }
        )
    for name, record_type in REGISTRY.items():
        operations.append(
            {
                "include-operation-id": record_type.operation,
                # Every batch goes to the dataset of its type, so records reach the database
                # (an unknown or other-typed dataset is tests/ingest's 404 and 409).
                "parameters": {"path.dataset_id": seeded.datasets[name]},
                # A batch answers 200 and rejects bad records one by one in `rejections`
                # (docs/ingestion.md), so a schema-violating record is not refused whole.
                "checks": {"negative_data_rejection": {"enabled": False}},
            }
        )
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
            "parameters": {
                "path.profile_id": real("profile"),
                "path.value": real("email"),
                "path.merge_id": real("merge"),
                "path.suppression_id": real("suppression"),
                "path.token_id": real("token"),
                "path.connector_id": real("connector"),
                "path.job_id": real("job"),
                "path.segment_id": real("segment"),
                "path.destination_id": real("destination"),
                "path.orchestration_id": real("orchestration"),
                "path.run_id": real("run"),
                "path.dataset_id": real("dataset"),
                "body.dataset_id": real("ticket_dataset"),
                **{f"path.{name}_id": real(name) for name in INBOX_PATH_IDS},
                **{name: real(dictionary) for name, dictionary in INBOX_FIELD_IDS.items()},
            },
            "operations": operations,
            # The webhook's secret is not a documented parameter (its security is per
            # connector): sent on every request, it lets deliveries to the kept connector in.
            "headers": {
                "Authorization": f"Bearer {admin}",
                "X-Carebase-Webhook-Secret": seeded.webhook_secret,
            },
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "database": "none",
                # A NUL in any string, anywhere, is a 422 naming the field (PostgreSQL cannot
                # store it), a rule the document does not repeat for every string: generated
                # NULs would be valid requests refused. tests/ingest/test_hostile_input.py
                # sends NUL in every place a request can hold one.
                "allow-x00": False,
            },
            # Ids come from the seeded dictionaries above, not from earlier answers: taken from
            # answers, a coverage-phase DELETE would remove the rows the later reads are given.
            "phases": {
                "examples": {"enabled": True, **NO_IDS_FROM_ANSWERS},
                "coverage": {"enabled": True, **NO_IDS_FROM_ANSWERS},
                "fuzzing": {"enabled": True, **NO_IDS_FROM_ANSWERS},
                "stateful": {"enabled": True, "max-steps": STATEFUL_STEPS},
            },
        }
    )


@dataclass
class Outcome:
    """What a fuzz run found, and what it did."""

    problems: list[str] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    checks: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        lines = [f"phase {name}: {seconds:.1f}s" for name, seconds in self.seconds.items()]
        lines.append(
            "checks run: " + ", ".join(f"{n} x{c}" for n, c in sorted(self.checks.items()))
        )
        for label, counter in sorted(self.statuses.items()):
            answered = ", ".join(f"{status} x{count}" for status, count in sorted(counter.items()))
            lines.append(f"{label}: {answered}")
        return "\n".join(lines)


def run_fuzz(schema: Any) -> Outcome:
    """Run schemathesis' engine over the schema: the runner of its `st run` command, with its
    phases. (Its pytest plugin's lazy schema, the way to reach a fixture's database, renames
    test items through `Node._nodeid`, which pytest 9.2 no longer has.)"""
    outcome = Outcome()
    statistic = Statistic()
    started: dict[str, float] = {}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
            for checks in event.recorder.checks.values():
                outcome.checks.update(check.name for check in checks)
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    counter = outcome.statuses.setdefault(event.recorder.label, Counter())
                    counter[interaction.response.status_code] += 1
        elif isinstance(event, events.PhaseStarted):
            started[event.phase.name.value] = time.perf_counter()
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value in started:
            name = event.phase.name.value
            outcome.seconds[name] = time.perf_counter() - started[name]
        elif isinstance(event, events.NonFatalError):
            outcome.problems.append(f"{event.label}: error\n{event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            outcome.problems += [str(failure) for failure in event.failures]
    for label in sorted(statistic.failures):
        for group in statistic.failures[label].values():
            text = group.format(index=None, curl=group.code_sample, config=schema.config.output)
            outcome.problems.append(f"{label}\n{text}")
    return outcome


def test_every_operation_answers_as_documented(
    database_url: str, database: Database, clock: FakeClock
) -> None:
    # Rate limits off: the fake clock stands still, so the fuzz's thousands of requests would
    # otherwise all be answered 429 after the first minute's worth (tests/auth covers 429).
    settings = test_settings(
        database_url, rate_limits=dict.fromkeys(DEFAULT_RATE_LIMITS, "unlimited")
    )
    app = create_app(settings, database=database, clock=clock, run_jobs=False)
    admin = make_token(database, "admin", name="fuzz admin")
    with TestClient(app, raise_server_exceptions=False) as client:
        seeded = seed(client, admin, database, clock.now)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=fuzz_config(seeded, admin))
    try:
        outcome = run_fuzz(schema)
    finally:
        # Schemathesis keeps the app's lifespan open for the process; close it (and the pool).
        asgi.shutdown_lifespans()
    print(outcome.summary())
    rerun = f"CAREBASE_FUZZ_SEED={SEED} CAREBASE_FUZZ_EXAMPLES={MAX_EXAMPLES}"
    report = "\n\n".join(outcome.problems)
    assert not outcome.problems, f"seed {SEED} (reproduce with {rerun}):\n\n{report}"
    assert set(outcome.statuses) >= {
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method in item
    }, "an operation was not fuzzed"
