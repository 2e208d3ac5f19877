"""Loopback fakes of the Zendesk, Gorgias and Freshdesk APIs, built from their documented
examples: a real HTTP server on 127.0.0.1 that checks Basic auth, pages like the helpdesk,
and answers 429 with Retry-After (or 5xx) when a test asks it to."""

from __future__ import annotations

import base64
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

Reply = tuple[int, Any, dict[str, str]]
Handler = Callable[[dict[str, str], "FakeHelpdesk"], Reply]


@dataclass
class FakeHelpdesk:
    """Routes, the expected Basic credentials, and what was asked."""

    user: str
    password: str
    routes: list[tuple[re.Pattern[str], Callable[..., Reply]]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    # Writes (PUT, POST): routes by method, and (method, path, JSON body) of each one received.
    write_routes: list[tuple[str, re.Pattern[str], Callable[..., Reply]]] = field(
        default_factory=list
    )
    writes: list[tuple[str, str, Any]] = field(default_factory=list)
    # Answers to give before the routes answer: (status, Retry-After or None), consumed in order.
    failures: list[tuple[int, str | None]] = field(default_factory=list)
    # Fail every request whose path and query match this, with 500 (a helpdesk gone down).
    broken: re.Pattern[str] | None = None
    url: str = ""
    # The time the helpdesk stamps on what it is sent (a comment, a message, a reply).
    now: str = "2024-11-06T11:00:00Z"

    def route(self, pattern: str) -> Callable[[Callable[..., Reply]], Callable[..., Reply]]:
        """Register `handler(query, **groups)` for GET paths matching `pattern`."""

        def register(handler: Callable[..., Reply]) -> Callable[..., Reply]:
            self.routes.append((re.compile(f"^{pattern}$"), handler))
            return handler

        return register

    def write_route(
        self, method: str, pattern: str
    ) -> Callable[[Callable[..., Reply]], Callable[..., Reply]]:
        """Register `handler(body, **groups)` for `method` (PUT, POST) on paths matching it."""

        def register(handler: Callable[..., Reply]) -> Callable[..., Reply]:
            self.write_routes.append((method, re.compile(f"^{pattern}$"), handler))
            return handler

        return register

    def answer(
        self,
        path: str,
        query: dict[str, str],
        authorization: str | None,
        method: str = "GET",
        body: Any = None,
    ) -> Reply:
        asked = path + (
            "?" + "&".join(f"{k}={v}" for k, v in sorted(query.items())) if query else ""
        )
        self.requests.append(asked if method == "GET" else f"{method} {asked}")
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "Couldn't authenticate you"}, {}
        if self.failures:
            status, retry_after = self.failures.pop(0)
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            return status, {"error": "APIRateLimitExceeded"}, headers
        if self.broken is not None and self.broken.search(asked):
            return 500, {"error": "InternalError"}, {}
        if method != "GET":
            for verb, pattern, handler in self.write_routes:
                match = pattern.match(path)
                if verb == method and match:
                    self.writes.append((method, path, body))
                    return handler(body, **match.groupdict())
            return 404, {"error": "RecordNotFound"}, {}
        for pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                return handler(query, **match.groupdict())
        return 404, {"error": "RecordNotFound"}, {}


@contextmanager
def serve(fake: FakeHelpdesk) -> Iterator[FakeHelpdesk]:
    """Run the fake on a free loopback port for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer("GET")

        def do_PUT(self) -> None:
            self._answer("PUT")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            sent = orjson.loads(self.rfile.read(length)) if length else None
            status, body, headers = fake.answer(
                parts.path, query, self.headers.get("Authorization"), method, sent
            )
            payload = orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Silent:
    """A helpdesk host that accepts connections and never answers (a hung API)."""

    url: str = ""
    accepted: list[socket.socket] = field(default_factory=list)


@contextmanager
def silent() -> Iterator[Silent]:
    """A loopback port that completes the TCP handshake, reads nothing and never answers;
    its connections are closed when the block ends."""
    state = Silent()
    listener = socket.create_server(("127.0.0.1", 0))
    state.url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    listener.settimeout(0.1)
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            state.accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        done.set()
        thread.join()
        listener.close()
        for connection in state.accepted:
            connection.close()


# --- Zendesk: shapes from developer.zendesk.com (Tickets, Users, Ticket Metrics, Incremental
# Exports), values made concrete.


def zendesk_ticket(ticket_id: int, **changes: Any) -> dict[str, Any]:
    """A ticket as `GET /api/v2/tickets/{id}` shows it."""
    ticket = {
        "id": ticket_id,
        "url": f"https://acme.zendesk.com/api/v2/tickets/{ticket_id}.json",
        "created_at": "2024-11-06T08:00:00Z",
        "updated_at": "2024-11-06T10:15:00Z",
        "type": "incident",
        "subject": "Help, my printer is on fire!",
        "raw_subject": "Help, my printer is on fire!",
        "description": "The fire is very colorful.",
        "priority": "high",
        "status": "hold",
        "recipient": "support@acme.com",
        "requester_id": 20978392,
        "submitter_id": 20978392,
        "assignee_id": 235323,
        "tags": ["enterprise", "printer"],
        "via": {
            "channel": "email",
            "source": {"from": {}, "to": {"address": "support@acme.com"}, "rel": None},
        },
        "satisfaction_rating": {"score": "good", "comment": "Fast!"},
    }
    ticket.update(changes)
    return ticket


ZENDESK_USERS = [
    {
        "id": 20978392,
        "name": "Aaron W",
        "email": "aaron@gmail.com",
        "phone": "+61404000000",
        "role": "end-user",
    },
    {"id": 235323, "name": "Matt M", "email": "matt@acme.com", "phone": None, "role": "agent"},
]


def zendesk_sideload(
    tickets: list[dict[str, Any]], users: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """`include=users` as Zendesk answers it: the users the tickets name, except those it leaves
    out of sideloads (deleted users, `active: false`, and suspended ones)."""
    named = {t.get(key) for t in tickets for key in ("requester_id", "submitter_id", "assignee_id")}
    return [
        user
        for user_id, user in users.items()
        if user_id in named and user.get("active", True) and not user.get("suspended")
    ]


def zendesk_metrics(ticket_id: int) -> dict[str, Any]:
    """A metric set as `GET /api/v2/tickets/{id}/metrics` shows it."""
    return {
        "id": 33,
        "ticket_id": ticket_id,
        "created_at": "2024-11-06T08:00:00Z",
        "solved_at": "2024-11-06T10:00:00Z",
        "reply_time_in_minutes": {"calendar": 19, "business": 10},
        "first_resolution_time_in_minutes": {"calendar": 120, "business": 60},
        "full_resolution_time_in_minutes": {"calendar": 120, "business": 60},
        "replies": 2,
        "reopens": 0,
    }


def zendesk_comment(
    comment_id: int, author_id: int, at: str, body: str, *, public: bool = True, via: str = "web"
) -> dict[str, Any]:
    """A comment as `GET /api/v2/tickets/{id}/comments` lists it."""
    return {
        "id": comment_id,
        "type": "Comment",
        "author_id": author_id,
        "body": body,
        "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
        "plain_body": body,
        "public": public,
        "attachments": [],
        "audit_id": comment_id + 1000,
        "via": {"channel": via, "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": at,
        "metadata": {"system": {}, "custom": {}},
    }


def zendesk_status_audit(audit_id: int, at: str, previous: str, value: str) -> dict[str, Any]:
    """An audit (`GET /api/v2/tickets/{id}/audits`) whose one event changes the status."""
    return {
        "id": audit_id,
        "ticket_id": 0,
        "created_at": at,
        "author_id": 235323,
        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
        "metadata": {"system": {}, "custom": {}},
        "events": [
            {
                "id": audit_id * 10 + 1,
                "type": "Change",
                "field_name": "status",
                "value": value,
                "previous_value": previous,
            },
            {"id": audit_id * 10 + 2, "type": "Notification", "subject": "Updated", "body": "x"},
        ],
    }


def zendesk_conversation() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A ticket's comments and audits: the customer writes, an automation answers, an agent
    leaves a private note then replies, the customer writes again; the ticket goes pending
    then solved."""
    customer, agent = 20978392, 235323
    comments = [
        zendesk_comment(501, customer, "2024-11-06T08:00:00Z", "Printer on fire", via="email"),
        zendesk_comment(502, agent, "2024-11-06T08:01:00Z", "We got your email", via="rule"),
        zendesk_comment(503, agent, "2024-11-06T08:10:00Z", "call them", public=False),
        zendesk_comment(504, agent, "2024-11-06T08:20:00Z", "Unplug it, please"),
        zendesk_comment(505, customer, "2024-11-06T09:00:00Z", "Done, thanks", via="email"),
    ]
    audits = [
        zendesk_status_audit(701, "2024-11-06T08:20:00Z", "open", "pending"),
        zendesk_status_audit(702, "2024-11-06T10:00:00Z", "pending", "solved"),
    ]
    return comments, audits


def zendesk(
    tickets: dict[int, dict[str, Any]],
    *,
    page_size: int = 2,
    users: list[dict[str, Any]] | None = None,
    comments: dict[int, list[dict[str, Any]]] | None = None,
    audits: dict[int, list[dict[str, Any]]] | None = None,
) -> FakeHelpdesk:
    """A Zendesk fake holding `tickets` (by id) and `users` (ZENDESK_USERS by default). A user
    with `active: false` (deleted) or `suspended: true` is left out of the `include=users`
    sideloads but still answers `GET /api/v2/users/{id}.json` and `show_many`; a user not held
    at all (permanently deleted) answers 404 and is left out of `show_many`."""
    fake = FakeHelpdesk("admin@acme.com/token", "zd-token")
    held = {user["id"]: user for user in (ZENDESK_USERS if users is None else users)}
    # Conversations: none unless given; comments posted through the API are added.
    comments = comments if comments is not None else {}
    audits = audits if audits is not None else {}

    def listed(key: str, items: list[dict[str, Any]], query: dict[str, str], path: str) -> Reply:
        """Offset pages of two, with `next_page` as Zendesk gives it (and users sideloaded)."""
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * 2 : page * 2]
        more = page * 2 < len(items)
        named = {item.get("author_id") for item in chunk}
        body = {
            key: chunk,
            "users": [u for i, u in held.items() if i in named] if query.get("include") else [],
            "next_page": f"{fake.url}{path}?include=users&page={page + 1}" if more else None,
            "previous_page": None,
            "count": len(items),
        }
        return 200, body, {}

    @fake.route(r"/api/v2/tickets/(?P<ticket_id>\d+)/comments\.json")
    def list_comments(query: dict[str, str], ticket_id: str) -> Reply:
        if int(ticket_id) not in tickets:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        items = comments.setdefault(int(ticket_id), [])
        return listed("comments", items, query, f"/api/v2/tickets/{ticket_id}/comments.json")

    @fake.route(r"/api/v2/tickets/(?P<ticket_id>\d+)/audits\.json")
    def list_audits(query: dict[str, str], ticket_id: str) -> Reply:
        if int(ticket_id) not in tickets:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        items = audits.get(int(ticket_id), [])
        return listed("audits", items, query, f"/api/v2/tickets/{ticket_id}/audits.json")

    @fake.write_route("PUT", r"/api/v2/tickets/(?P<ticket_id>\d+)\.json")
    def update(body: Any, ticket_id: str) -> Reply:
        ticket = tickets.get(int(ticket_id))
        if ticket is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        comment = (body.get("ticket") or {}).get("comment") or {}
        if not comment.get("body"):
            return 422, {"error": "RecordInvalid", "description": "Record validation errors"}, {}
        held_comments = comments.setdefault(int(ticket_id), [])
        comment_id = 900 + len(held_comments) + sum(len(c) for c in comments.values())
        public = comment.get("public", True)
        # The API token's user (Matt, an agent) is the author.
        added = zendesk_comment(comment_id, 235323, fake.now, comment["body"], public=public)
        added["via"] = {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}
        held_comments.append(added)
        audit = {
            "id": comment_id + 1000,
            "ticket_id": int(ticket_id),
            "created_at": fake.now,
            "author_id": 235323,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {}, "custom": {}},
            "events": [
                {
                    "id": comment_id,
                    "type": "Comment",
                    "author_id": 235323,
                    "body": comment["body"],
                    "public": public,
                    "attachments": [],
                },
            ],
        }
        return 200, {"ticket": ticket, "audit": audit}, {}

    @fake.route(r"/api/v2/tickets/(?P<ticket_id>\d+)\.json")
    def show(query: dict[str, str], ticket_id: str) -> Reply:
        ticket = tickets.get(int(ticket_id))
        if ticket is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        assert query.get("include") == "users,metric_sets"
        return (
            200,
            {
                "ticket": ticket,
                "users": zendesk_sideload([ticket], held),
                "metric_sets": [zendesk_metrics(ticket["id"])],
            },
            {},
        )

    @fake.route(r"/api/v2/users/(?P<user_id>\d+)\.json")
    def show_user(_query: dict[str, str], user_id: str) -> Reply:
        user = held.get(int(user_id))
        if user is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        return 200, {"user": user}, {}

    @fake.route(r"/api/v2/users/show_many\.json")
    def show_many(query: dict[str, str]) -> Reply:
        ids = [int(part) for part in query["ids"].split(",")]
        if len(ids) > 100:  # the documented limit of one call
            return 400, {"error": "InvalidEndpoint", "description": "Too many ids"}, {}
        return 200, {"users": [held[i] for i in ids if i in held]}, {}

    @fake.route(r"/api/v2/incremental/tickets/cursor\.json")
    def export(query: dict[str, str]) -> Reply:
        ordered = sorted(tickets.values(), key=lambda t: (t["updated_at"], t["id"]))
        start = int(query.get("cursor", "0") or 0)
        page = ordered[start : start + page_size]
        end = start + page_size >= len(ordered)
        body = {
            "tickets": page,
            "users": zendesk_sideload(page, held),
            "metric_sets": [zendesk_metrics(t["id"]) for t in page],
            "after_cursor": str(start + page_size),
            "after_url": f"{fake.url}/api/v2/incremental/tickets/cursor.json"
            f"?cursor={start + page_size}",
            "end_of_stream": end,
        }
        return 200, body, {}

    return fake


# --- Gorgias: shapes from developers.gorgias.com (The Ticket object, The TicketMessage object).


def gorgias_ticket(ticket_id: int, **changes: Any) -> dict[str, Any]:
    """A ticket as `GET /api/tickets/{id}` shows it, with its messages."""
    ticket = {
        "id": ticket_id,
        "uri": f"/api/tickets/{ticket_id}/",
        "status": "closed",
        "channel": "chat",
        "via": "gorgias_chat",
        "subject": "Wrong size delivered",
        "created_datetime": "2024-02-14T09:00:00.000000+00:00",
        "updated_datetime": "2024-02-14T21:30:50.228948+00:00",
        "closed_datetime": "2024-02-14T11:00:00+00:00",
        "customer": {
            "id": 7,
            "email": "jane@fake.com",
            "name": "Jane Doe",
            "channels": [
                {"type": "email", "address": "jane@fake.com"},
                {"type": "phone", "address": "+61491570006"},
            ],
        },
        "assignee_user": {"id": 3, "name": "Priya S", "email": "priya@acme.com"},
        "tags": [{"id": 1, "name": "sizing"}, {"id": 2, "name": "exchange"}],
        "satisfaction_survey": {"score": 4},
        "messages": [
            {
                "id": 1,
                "from_agent": False,
                "public": True,
                "channel": "chat",
                "via": "gorgias_chat",
                "body_text": "My jacket is the wrong size",
                "stripped_text": "My jacket is the wrong size",
                "sender": {"id": 7, "name": "Jane Doe", "email": "jane@fake.com"},
                "created_datetime": "2024-02-14T09:00:00+00:00",
                "source": {"to": [{"address": "chat@acme.com"}]},
            },
            {
                "id": 2,
                "from_agent": True,
                "public": True,
                "channel": "chat",
                "via": "rule",
                "rule_id": 9,
                "sender": {"name": "Auto-reply"},
                "created_datetime": "2024-02-14T09:01:00+00:00",
            },
            {
                "id": 3,
                "from_agent": True,
                "public": False,
                "channel": "internal-note",
                "via": "helpdesk",
                "sender": {"name": "Priya S"},
                "created_datetime": "2024-02-14T09:05:00+00:00",
            },
            {
                "id": 4,
                "from_agent": True,
                "public": True,
                "channel": "chat",
                "via": "helpdesk",
                "sender": {"name": "Priya S"},
                "created_datetime": "2024-02-14T09:30:00+00:00",
            },
            {
                "id": 5,
                "from_agent": False,
                "public": True,
                "channel": "chat",
                "via": "gorgias_chat",
                "sender": {"id": 7, "name": "Jane Doe", "email": "jane@fake.com"},
                "created_datetime": "2024-02-14T10:00:00+00:00",
            },
            {
                "id": 6,
                "from_agent": False,
                "public": True,
                "channel": "chat",
                "via": "gorgias_chat",
                "sender": {"id": 7, "name": "Jane Doe", "email": "jane@fake.com"},
                "created_datetime": "2024-02-14T10:05:00+00:00",
            },
            {
                "id": 7,
                "from_agent": True,
                "public": True,
                "channel": "chat",
                "via": "helpdesk",
                "sender": {"name": "Sam K"},
                "created_datetime": "2024-02-14T10:10:00+00:00",
            },
        ],
    }
    ticket.update(changes)
    return ticket


def gorgias(tickets: dict[int, dict[str, Any]], *, page_size: int = 2) -> FakeHelpdesk:
    """A Gorgias fake holding `tickets`; the list is newest-updated first with cursors."""
    fake = FakeHelpdesk("api@acme.com", "gg-key")

    @fake.route(r"/api/tickets/(?P<ticket_id>\d+)/messages")
    def messages(query: dict[str, str], ticket_id: str) -> Reply:
        ticket = tickets.get(int(ticket_id))
        if ticket is None:
            return 404, {"error": "Not found"}, {}
        held = ticket.get("messages") or []
        start = int(query.get("cursor", "0") or 0)
        size = min(int(query.get("limit", "30")), 100)  # Gorgias's largest page
        more = start + size < len(held)
        meta = {"next_cursor": str(start + size) if more else None, "prev_cursor": None}
        return 200, {"data": held[start : start + size], "meta": meta}, {}

    @fake.write_route("POST", r"/api/tickets/(?P<ticket_id>\d+)/messages")
    def create_message(body: Any, ticket_id: str) -> Reply:
        ticket = tickets.get(int(ticket_id))
        if ticket is None:
            return 404, {"error": "Not found"}, {}
        required = ("channel", "via", "from_agent", "sender")
        if any(key not in body for key in required) or not body.get("body_text"):
            return 400, {"error": "Validation error", "fields": list(required)}, {}
        held = ticket.setdefault("messages", [])
        message = {
            **body,
            "id": max((m["id"] for m in held), default=0) + 100,
            "ticket_id": int(ticket_id),
            "sender": {"id": 3, "name": "Priya S", "email": "priya@acme.com"},
            "stripped_text": body["body_text"],
            "created_datetime": fake.now,
            "sent_datetime": fake.now,
        }
        held.append(message)
        return 201, message, {}

    @fake.route(r"/api/tickets/(?P<ticket_id>\d+)")
    def show(_query: dict[str, str], ticket_id: str) -> Reply:
        ticket = tickets.get(int(ticket_id))
        return (200, ticket, {}) if ticket else (404, {"error": "Not found"}, {})

    @fake.route(r"/api/tickets")
    def listing(query: dict[str, str]) -> Reply:
        assert query["order_by"] == "updated_datetime:desc"
        ordered = sorted(tickets.values(), key=lambda t: t["updated_datetime"], reverse=True)
        start = int(query.get("cursor", "0"))
        page = ordered[start : start + page_size]
        listed = [{k: v for k, v in t.items() if k != "messages"} for t in page]
        next_cursor = str(start + page_size) if start + page_size < len(ordered) else None
        return 200, {"data": listed, "meta": {"next_cursor": next_cursor, "prev_cursor": None}}, {}

    return fake


# --- Freshdesk: shapes from developers.freshdesk.com/api (View a Ticket with include=requester,
# stats; List all conversations; Satisfaction ratings; View an agent).


def freshdesk_ticket(ticket_id: int, **changes: Any) -> dict[str, Any]:
    """A ticket as `GET /api/v2/tickets/{id}?include=requester,stats` shows it."""
    ticket = {
        "id": ticket_id,
        "subject": "Refund request",
        "description": "<div>Please refund order 1234</div>",
        "description_text": "Please refund order 1234",
        "status": 4,
        "priority": 2,
        "source": 1,
        "support_email": "help@acme.freshdesk.com",
        "responder_id": 5,
        "tags": ["refund"],
        "created_at": "2024-03-01T08:00:00Z",
        "updated_at": "2024-03-01T12:00:00Z",
        "requester": {
            "id": 77,
            "name": "Bob",
            "email": "bob@fake.com",
            "mobile": "+61404000001",
            "phone": None,
        },
        "stats": {
            "first_responded_at": "2024-03-01T08:30:00Z",
            "resolved_at": "2024-03-01T11:00:00Z",
            "closed_at": None,
            "agent_responded_at": "2024-03-01T10:00:00Z",
        },
    }
    ticket.update(changes)
    return ticket


FRESHDESK_CONVERSATIONS = [
    {
        "id": 1,
        "incoming": False,
        "private": False,
        "user_id": 5,
        "created_at": "2024-03-01T08:30:00Z",
        "body_text": "On it",
    },
    {
        "id": 2,
        "incoming": False,
        "private": True,
        "user_id": 5,
        "created_at": "2024-03-01T08:40:00Z",
        "body_text": "note",
    },
    {
        "id": 3,
        "incoming": True,
        "private": False,
        "user_id": 77,
        "created_at": "2024-03-01T09:00:00Z",
        "body_text": "Thanks?",
    },
    {
        "id": 4,
        "incoming": False,
        "private": False,
        "user_id": 5,
        "created_at": "2024-03-01T10:00:00Z",
        "body_text": "Done",
    },
]


def freshdesk(
    tickets: dict[int, dict[str, Any]],
    *,
    page_size: int = 2,
    page_limit: int = 300,
    conversations: dict[int, list[dict[str, Any]]] | None = None,
) -> FakeHelpdesk:
    """A Freshdesk fake holding `tickets`; lists oldest-updated first, refuses pages past the
    limit, and leaves `description` and `description_text` out of list entries unless asked
    with `include=description`, as Freshdesk does for accounts created after 2018-11-30."""
    fake = FakeHelpdesk("fd-key", "X")

    @fake.route(r"/api/v2/tickets/(?P<ticket_id>\d+)")
    def show(query: dict[str, str], ticket_id: str) -> Reply:
        ticket = tickets.get(int(ticket_id))
        return (200, ticket, {}) if ticket else (404, {"code": "not_found"}, {})

    # Every ticket's conversation is FRESHDESK_CONVERSATIONS unless given; replies are added.
    held = conversations if conversations is not None else {}

    @fake.route(r"/api/v2/tickets/(?P<ticket_id>\d+)/conversations")
    def list_conversations(query: dict[str, str], ticket_id: str) -> Reply:
        # Two a page, so that following the Link header is exercised.
        page = int(query.get("page", "1"))
        items = held.setdefault(int(ticket_id), [dict(c) for c in FRESHDESK_CONVERSATIONS])
        chunk = items[(page - 1) * 2 : page * 2]
        more = page * 2 < len(items)
        link = f'<{fake.url}/api/v2/tickets/{ticket_id}/conversations?page={page + 1}>; rel="next"'
        return 200, chunk, {"Link": link} if more else {}

    @fake.write_route("POST", r"/api/v2/tickets/(?P<ticket_id>\d+)/reply")
    def reply(body: Any, ticket_id: str) -> Reply:
        if int(ticket_id) not in tickets:
            return 404, {"code": "not_found"}, {}
        if not body.get("body"):
            return 400, {"description": "Validation failed", "errors": [{"field": "body"}]}, {}
        items = held.setdefault(int(ticket_id), [dict(c) for c in FRESHDESK_CONVERSATIONS])
        text = re.sub(r"<[^>]+>", "", body["body"]).strip()
        conversation = {
            "id": 1000 + len(items),
            "incoming": False,
            "private": False,
            "user_id": 5,
            "ticket_id": int(ticket_id),
            "body": body["body"],
            "body_text": text,
            "created_at": fake.now,
            "updated_at": fake.now,
        }
        items.append(conversation)
        return 201, conversation, {}

    @fake.route(r"/api/v2/tickets/(?P<ticket_id>\d+)/satisfaction_ratings")
    def ratings(_query: dict[str, str], ticket_id: str) -> Reply:
        rating = {
            "id": 9,
            "ticket_id": int(ticket_id),
            "ratings": {"default_question": 103},
            "updated_at": "2024-03-01T12:00:00Z",
        }
        return 200, [rating], {}

    @fake.route(r"/api/v2/agents/(?P<agent_id>\d+)")
    def agent(_query: dict[str, str], agent_id: str) -> Reply:
        return (
            200,
            {"id": int(agent_id), "contact": {"name": "Chen L", "email": "chen@acme.com"}},
            {},
        )

    @fake.route(r"/api/v2/tickets")
    def listing(query: dict[str, str]) -> Reply:
        page = int(query.get("page", "1"))
        if page > page_limit:
            return (
                400,
                {
                    "description": "Validation failed",
                    "errors": [{"field": "page", "message": "must be <= 300"}],
                },
                {},
            )
        since = query["updated_since"]
        ordered = sorted(
            (t for t in tickets.values() if t["updated_at"] >= since),
            key=lambda t: (t["updated_at"], t["id"]),
        )
        start = (page - 1) * page_size
        chunk = ordered[start : start + page_size]
        # Embedded only when asked for: `include=requester,stats,description`.
        asked = set(query.get("include", "").split(","))
        left_out = {"requester", "stats", "description"} - asked
        if "description" in left_out:
            left_out.add("description_text")
        chunk = [{k: v for k, v in t.items() if k not in left_out} for t in chunk]
        headers = {}
        if start + page_size < len(ordered):
            headers["Link"] = f'<{fake.url}/api/v2/tickets?page={page + 1}>; rel="next"'
        return 200, chunk, headers

    return fake
