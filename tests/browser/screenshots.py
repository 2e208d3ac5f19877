"""Render a PNG of every console page, on the demo brand, into docs/screenshots/.

    python3 dev.py screenshots [--only NAME ...] [--out DIR]

Starts `carebase serve --demo` on a throwaway SQLite database, opens each page of `SHOTS` in
Debian's Chromium (as the browser tests do, offline but for the server) and writes
`<name>.png`. A page added to the console adds a `Shot` here; look at the pictures after
every change to a page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from sqlalchemy import text

from carebase.activation import orchestrations, run_service
from carebase.activation import service as destinations
from carebase.activation.schemas import DestinationIn, OrchestrationIn
from carebase.db.session import Database
from carebase.inbox import mentions, replies
from carebase.inbox.workflow import Actor
from carebase.models import Classification, MentionClassification
from carebase.notes import service as notes
from carebase.query import service as saved_queries
from tests.browser.accounts import seed_team
from tests.browser.chromium import chromium_path, launch, open_page
from tests.conftest import test_settings
from tests.console_session import browser_cookie, create_signed_in
from tests.inbox.conftest import make_mention
from tests.serverproc import running_server

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Shot:
    """One picture: a page at a viewport size, taken once `ready` (a selector) is shown."""

    name: str
    path: str
    width: int = 1280
    height: int = 800
    ready: str | None = None
    full_page: bool = False
    # Signed in as a demo agent; `path` may name {profile}, {dataset}, {log}, {segment},
    # {query}, {destination}, {orchestration}, {run} and {mention} (below).
    signed_in: bool = False


SHOTS: tuple[Shot, ...] = (
    Shot("sign-in", "/sign-in"),
    Shot("sign-in-260px", "/sign-in", width=260, height=600),
    Shot("api-docs", "/docs", ready=".opblock-summary-path"),
    Shot("profile-search", "/profiles?q=a", signed_in=True, ready="[data-result]"),
    Shot("profile-summary", "/profiles/{profile}", signed_in=True, full_page=True),
    Shot("profile-notes", "/profiles/{profile}/notes", signed_in=True),
    Shot("profile-attributes", "/profiles/{profile}/attributes", signed_in=True, full_page=True),
    Shot("profile-history", "/profiles/{profile}/history", signed_in=True, ready=".event"),
    Shot("profile-merges", "/profiles/{profile}/merges", signed_in=True),
    Shot("profile-summary-260px", "/profiles/{profile}", width=260, height=900, signed_in=True),
    Shot("data-datasets", "/data/datasets", signed_in=True),
    Shot("data-log", "/data/logs/{log}", signed_in=True),
    Shot("account", "/account", signed_in=True),
    Shot("settings-users", "/settings/users", signed_in=True),
    Shot("settings-groups", "/settings/groups", signed_in=True),
    Shot("settings-tokens", "/settings/tokens", signed_in=True),
    Shot("settings-inbox", "/settings/inbox", signed_in=True),
    Shot("settings-inbox-classifications", "/settings/inbox/classifications", signed_in=True),
    Shot("settings-inbox-queues", "/settings/inbox/queues", signed_in=True),
    Shot("settings-inbox-ignored", "/settings/inbox/ignored", signed_in=True),
    Shot("settings-inbox-sla-policies", "/settings/inbox/sla-policies", signed_in=True),
    Shot(
        "settings-inbox-business-hours-new",
        "/settings/inbox/business-hours/new",
        signed_in=True,
        full_page=True,
    ),
    Shot("settings-inbox-templates-new", "/settings/inbox/templates/new", signed_in=True),
    Shot("settings-inbox-forms", "/settings/inbox/forms", signed_in=True),
    Shot("settings-inbox-workflow", "/settings/inbox/workflow", signed_in=True),
    Shot("segments", "/segments", signed_in=True),
    Shot("segment", "/segments/{segment}", signed_in=True, full_page=True),
    Shot(
        "segment-builder",
        "/segments/{segment}/edit",
        signed_in=True,
        full_page=True,
        ready=".count-now",
    ),
    Shot("segment-new", "/segments/new", signed_in=True),
    Shot("sql", "/sql?query={query}&run=1", signed_in=True, height=1100, ready="#sql-result table"),
    Shot("activation", "/activation", signed_in=True),
    Shot("activation-destinations", "/activation/destinations", signed_in=True),
    Shot("activation-destination", "/activation/destinations/{destination}", signed_in=True),
    Shot(
        "activation-destination-new",
        "/activation/destinations/new?kind=sftp",
        signed_in=True,
        full_page=True,
    ),
    Shot("activation-orchestration", "/activation/orchestrations/{orchestration}", signed_in=True),
    Shot("inbox", "/inbox?tab=all", signed_in=True, full_page=True),
    Shot("inbox-mention", "/inbox/m/{mention}", signed_in=True, full_page=True),
    Shot("inbox-approvals", "/inbox/approvals", signed_in=True),
    Shot("activity", "/activity", signed_in=True, full_page=True, ready="canvas[data-drawn]"),
    Shot(
        "activity-team",
        "/activity/team",
        signed_in=True,
        full_page=True,
        ready="canvas[data-drawn]",
    ),
    Shot(
        "activity-sla",
        "/activity/sla",
        signed_in=True,
        full_page=True,
        ready="canvas[data-drawn]",
    ),
    Shot(
        "activity-cases",
        "/activity/cases",
        signed_in=True,
        full_page=True,
        ready="canvas[data-drawn]",
    ),
    Shot(
        "activity-nps",
        "/activity/nps",
        signed_in=True,
        full_page=True,
        ready="canvas[data-drawn]",
    ),
    Shot(
        "activation-orchestration-edit",
        "/activation/orchestrations/{orchestration}/edit",
        signed_in=True,
        full_page=True,
    ),
    Shot(
        "activation-run",
        "/activation/orchestrations/{orchestration}/runs/{run}",
        signed_in=True,
        full_page=True,
        ready="#run-live:not([hx-trigger])",
    ),
)

# A demo customer with open tickets, several purchases and email events: the profile pages'
# pictures show a full profile.
_DEMO_CUSTOMER = """
SELECT s.profile_id FROM support_attributes s
JOIN commerce_attributes c ON c.profile_id = s.profile_id
JOIN engagement_attributes e ON e.profile_id = s.profile_id
JOIN customer_attributes n ON n.profile_id = s.profile_id
WHERE s.open_ticket_count > 0 AND c.order_count >= 3 AND c.return_count > 0
  AND e.last_email_open_at IS NOT NULL AND n.first_name IS NOT NULL
ORDER BY s.ticket_count + c.order_count DESC, s.profile_id LIMIT 1
"""
# A demo segment whose definition fits the builder's rows (ticket events and an attribute).
_DEMO_SEGMENT = "SELECT id FROM segments WHERE name = 'Unhappy VIPs'"
_DEMO_QUERY = (
    "SELECT c.profile_id, c.full_name, c.email, c.city, c.ticket_count\n"
    "FROM customer_360 AS c\nWHERE c.ticket_count >= 3\nORDER BY c.ticket_count DESC\nLIMIT 25"
)
_DEMO_LOG = (
    "SELECT l.id, l.dataset_id FROM ingestion_logs l JOIN datasets d ON d.id = l.dataset_id "
    "WHERE d.record_type = 'customer_support_ticket' ORDER BY l.rejected DESC, l.id DESC LIMIT 1"
)


def demo_session(database_url: str, server_url: str) -> tuple[dict[str, str], list[Any]]:
    """A demo agent signed in, a note of theirs on the demo customer, a saved query, and
    what the paths name: ({profile, dataset, log, segment, query}, the session cookie)."""
    settings = test_settings(database_url)
    database = Database.from_settings(settings)
    now = datetime.now(UTC)
    try:
        agent = create_signed_in(
            database,
            settings,
            email="sam@demo-brand.com",
            first_name="Sam",
            last_name="Kowalski",
            role="manager",  # the settings pages are shot with the same session
            timezone="Australia/Melbourne",
            now=now,
        )
        with database.unit_of_work() as session:
            profile = session.execute(text(_DEMO_CUSTOMER)).scalar_one()
            log, dataset = session.execute(text(_DEMO_LOG)).one()
            segment = session.execute(text(_DEMO_SEGMENT)).scalar_one()
            query = saved_queries.create_query(
                session,
                name="Frequent contacts",
                description="Three tickets or more, most first.",
                sql=_DEMO_QUERY,
                dialect=database.dialect,
                created_by=f"user:{agent.id}",
                now=now,
            )["id"]
            notes.write(
                session,
                profile,
                author_id=agent.id,
                body="Prefers chat over email. Promised a free exchange on the knit (size M).",
                now=now,
            )
            activation = _demo_activation(session, settings, segment, now)
            mention = _demo_inbox(session, profile, agent.id, now)
    finally:
        database.dispose()
    names = {
        "profile": profile,
        "dataset": dataset,
        "log": log,
        "segment": segment,
        "query": query,
        **activation,
        "mention": mention,
    }
    return names, [browser_cookie(agent, settings, server_url)]


def _demo_activation(session: Any, settings: Any, segment: str, now: datetime) -> dict[str, str]:
    """A Zendesk destination, an orchestration sending the demo segment to it on weekday
    mornings, and a dry run of it (the demo server's worker runs it; nothing is sent)."""
    destination = destinations.create_destination(
        session,
        DestinationIn(
            name="Zendesk production",
            kind="zendesk",
            config={"base_url": "https://demo-brand.zendesk.com", "email": "sam@demo-brand.com"},
            secrets={"api_token": "demo-token"},
        ),
        settings=settings,
        now=now,
        created_by="demo",
    )
    orchestration = orchestrations.create_orchestration(
        session,
        OrchestrationIn.model_validate(
            {
                "name": "Unhappy VIPs to Zendesk",
                "destination_id": destination.id,
                "source": {"type": "segment", "id": segment, "attributes": ["email", "first_name"]},
                "mapping": {"external_id": "profile_id", "name": "first_name"},
                "schedule": {
                    "type": "cron",
                    "cron": "0 7 * * 1-5",
                    "timezone": "Australia/Melbourne",
                },
            }
        ),
        now=now,
        created_by="demo",
    )
    run = run_service.start_run(
        session, orchestration.id, now=now, dry_run=True, requested_by="demo"
    )
    return {"destination": destination.id, "orchestration": orchestration.id, "run": run.id}


def _demo_inbox(session: Any, profile: str, agent_id: int, now: datetime) -> str:
    """A few mentions for the inbox's pictures: one from the demo customer (claimed by the
    demo agent, classified, with a private note), one overdue, one by email. Its id."""
    label = Classification(
        name="Delivery", description="", colour="#1d5fbf", created_at=now, updated_at=now
    )
    session.add(label)
    session.flush()
    # The message is the demo customer's own, so the page's title and profile pane agree.
    named = session.execute(
        text("SELECT first_name, last_name FROM customer_attributes WHERE profile_id = :p"),
        {"p": profile},
    ).one()
    mention = make_mention(
        session,
        body="Hi! My knit jumper (size M) arrived with a hole in the sleeve. Can I swap it?",
        author_fullname=" ".join(part for part in named if part),
        source_type="email",
        account="help@demo-brand.com",
        profile_id=profile,
        state="assigned",
        assignee_id=agent_id,
        assigned_at=now - timedelta(minutes=20),
        published_at=now - timedelta(minutes=45),
    )
    session.add(
        MentionClassification(
            mention_id=mention.id,
            classification_id=label.id,
            applied_by_type="user",
            applied_by_user_id=agent_id,
            applied_at=now,
        )
    )
    # A public reply through the inbox's own services (the case opens, so the page offers
    # its survey link), then the agent's private note.
    answered = now - timedelta(minutes=10)
    reply = replies.sent_reply(
        mention,
        at=answered,
        body="So sorry about that! A replacement in size M is on its way today.",
        author_id=agent_id,
    )
    session.add(reply)
    session.flush()
    mentions.mark_responded(session, mention, reply, Actor.user(agent_id), answered)
    session.add(
        replies.sent_reply(
            mention,
            at=now,
            body="Second exchange this season; offer free return shipping.",
            author_id=agent_id,
            private=True,
        )
    )
    make_mention(
        session,
        body="@demo_brand three days and still no tracking number. Anyone there?",
        author_fullname="Casey Ng",
        published_at=now - timedelta(hours=3),
    )
    make_mention(
        session,
        body="Do you ship to New Zealand?",
        author_fullname="Ari Moana",
        source_type="instagram",
        published_at=now - timedelta(minutes=5),
    )
    return str(mention.id)


def take(shots: list[Shot], out: Path) -> int:
    """Start a demo server, photograph `shots` into `out`; 0 when every page answered."""
    executable = chromium_path()
    if executable is None:
        print("Chromium not found: install Debian's `chromium` or set CAREBASE_CHROMIUM.")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        url = f"sqlite:///{tmp}/carebase.db"
        with running_server(url, args=["--demo"], start_timeout=600) as server:
            print(f"demo server up in {time.perf_counter() - started:.1f} s", flush=True)
            names, cookies = demo_session(url, server.url)
            seed_team(server)  # colleagues, groups and tokens for the settings pages
            with sync_playwright() as playwright:
                browser = launch(playwright, executable)
                for shot in shots:
                    began = time.perf_counter()
                    visit = open_page(
                        browser,
                        server.url,
                        shot.path.format(**names),
                        width=shot.width,
                        height=shot.height,
                        cookies=cookies if shot.signed_in else None,
                    )
                    if shot.ready:
                        visit.page.locator(shot.ready).first.wait_for(timeout=30_000)
                    target = out / f"{shot.name}.png"
                    visit.page.screenshot(path=str(target), full_page=shot.full_page)
                    visit.context.close()
                    problem = "" if visit.status < 400 else f"  (HTTP {visit.status})"
                    failures += bool(problem)
                    print(
                        f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
                        f"  {time.perf_counter() - began:.1f} s{problem}",
                        flush=True,
                    )
                browser.close()
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    """Parse the arguments and take the pictures."""
    parser = argparse.ArgumentParser(prog="python3 dev.py screenshots", description=__doc__)
    parser.add_argument("--only", action="append", metavar="NAME", help="only this shot")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    unknown = set(args.only or ()) - {s.name for s in SHOTS}
    if unknown:
        parser.error(f"no such shot: {', '.join(sorted(unknown))}")
    return take(shots, args.out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
