"""A loopback fake of Zendesk's Users API, built from its documented shapes
(developer.zendesk.com: Users, User Fields, Job Statuses, Rate limits; shared/reference
helpdesk-apis.md §1.5 and activation-segments-anchors.md §4).

What it does, as Zendesk does:
- Basic auth `{email}/token:{api_token}` (401 `Couldn't authenticate you` otherwise; no
  credentials at all on `users/me` answer the anonymous user, id null);
- `GET /api/v2/users/me.json`, `GET /api/v2/user_fields.json` (paged by `next_page`);
- `POST /api/v2/users/create_or_update_many.json` and `PUT /api/v2/users/update_many.json`:
  at most 100 users (400 otherwise), 403 when data imports are disabled, answering a queued
  `job_status`;
- jobs go queued → working → completed on the fake's clock, and only then touch the users;
  results are in request order (`index` on create_or_update_many; update_many answers the
  OAS's `{id, action, status, success}` shape, without `index`);
- `GET /api/v2/job_statuses/show_many.json?ids=a,b` and `GET /api/v2/job_statuses/{id}.json`;
  jobs expire (`job_ttl`), and only the last `keep_jobs` are kept;
- the job cap (no more than `job_cap` queued or working: 429 + Retry-After), a users per
  second budget (a sliding one-second window: 429 + Retry-After), and the account's
  requests-per-minute budget (`requests_per_minute`, a sliding minute), which every answer
  reports as Zendesk does (`X-Rate-Limit`, `X-Rate-Limit-Remaining`, `ratelimit-reset`),
  and which answers 429 + Retry-After once spent;
- users matched by external_id (case-insensitive) then email; an email owned by another user
  fails the record ("Email: x is already being used by another user").

Tests drive it through `clock` (a `FakeTime` shared with the channel's sleep and timer makes
every wait free and every job transition deterministic), `fail_record` (a record that fails
on demand), `fail_next_job` (a job that ends `failed` or `killed` without results), and
`answer_next` (a one-off status, e.g. a 500 or a 429).
"""

from __future__ import annotations

import base64
import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

Reply = tuple[int, Any, dict[str, str]]
MAX_USERS = 100


class FakeTime:
    """A clock that only moves when slept on: shared by the fake and the channel under test,
    so Retry-After waits and job timers cost nothing."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock on instead of waiting."""
        with self._lock:
            self.slept.append(seconds)
            self.now += max(seconds, 0.0)


@dataclass
class UserField:
    """A custom user field as `GET /api/v2/user_fields` lists it."""

    key: str
    type: str = "text"
    options: tuple[str, ...] = ()
    active: bool = True
    regexp: str | None = None

    def as_json(self, number: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": 1000 + number,
            "url": f"https://example.zendesk.com/api/v2/user_fields/{1000 + number}.json",
            "key": self.key,
            "type": self.type,
            "title": self.key.replace("_", " ").title(),
            "active": self.active,
            "position": number,
            "regexp_for_validation": self.regexp,
        }
        if self.type in {"dropdown", "multiselect"}:
            body["custom_field_options"] = [
                {"id": 5000 + i, "name": value.title(), "value": value}
                for i, value in enumerate(self.options)
            ]
        return body


@dataclass
class Job:
    """One bulk job: what was asked, and when it moves on."""

    id: str
    kind: str  # create_or_update_many | update_many
    users: list[dict[str, Any]]
    created: float
    working_at: float
    done_at: float
    end: str = "completed"  # or failed / killed, asked by fail_next_job
    end_message: str = ""
    results: list[dict[str, Any]] | None = None
    finished: bool = False


@dataclass
class FakeZendesk:
    """A Zendesk account: its agent, user fields, users and bulk jobs."""

    email: str = "agent@acme.test"
    api_token: str = "zd-token-1"
    user_fields: list[UserField] = field(default_factory=list)
    imports_enabled: bool = True
    agent_role: str = "admin"
    job_cap: int = 30
    users_per_second: int = 100
    # The plan's budget of requests a minute (Enterprise: 700), across every endpoint.
    requests_per_minute: int = 700
    queued_for: float = 0.05
    working_for: float = 0.05
    job_ttl: float = 3600.0
    keep_jobs: int = 100
    fields_page_size: int = 100
    # The agent may not list user fields (403), as with a role that cannot see them.
    refuse_user_fields: bool = False
    clock: Callable[[], float] = time.monotonic
    url: str = ""
    # What happened: every request as "METHOD /path?query", the stored users by id, how many
    # times each user was written, and how many answers were 429s.
    requests: list[str] = field(default_factory=list)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    writes: Counter[int] = field(default_factory=Counter)
    throttled: int = 0
    jobs: dict[str, Job] = field(default_factory=dict)
    _failures: dict[str, tuple[str, str]] = field(default_factory=dict)
    _job_endings: list[tuple[str, str]] = field(default_factory=list)
    _answers: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    _window: list[tuple[float, int]] = field(default_factory=list)
    _minute: list[float] = field(default_factory=list)
    _by_external_id: dict[str, int] = field(default_factory=dict)
    _by_email: dict[str, int] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(90_001))
    _job_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _pending: list[Job] = field(default_factory=list)  # queued or working, oldest first
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # ---- hooks for tests ----------------------------------------------------------------

    def fail_record(
        self, identifier: str, *, error: str = "RecordInvalid", details: str | None = None
    ) -> None:
        """Every user sent with this external_id or email fails in its job's results."""
        message = details or f"Name: {identifier} is not valid"
        self._failures[identifier.lower()] = (error, message)

    def fail_next_job(self, status: str = "failed", message: str = "Job failed") -> None:
        """The next job created ends `failed` (or `killed`) with no results."""
        self._job_endings.append((status, message))

    def answer_next(self, status: int, *, retry_after: str | None = None, body: Any = None) -> None:
        """The next request (after auth) is answered with `status` instead."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._answers.append((status, headers, body or {"error": f"HTTP {status}"}))

    def add_user(self, **user: Any) -> dict[str, Any]:
        """A user already in the account."""
        with self._lock:
            stored = {"id": next(self._ids), "user_fields": {}, "identities": [], **user}
            self.users[stored["id"]] = stored
            self._index(stored)
            return stored

    def find(self, *, external_id: str | None = None, email: str | None = None) -> Any:
        """The stored user with this external_id (case-insensitive) or email, or None."""
        with self._lock:
            self._advance()
            return self._match(external_id, email)

    def active_jobs(self) -> int:
        """How many jobs are queued or working now."""
        with self._lock:
            self._advance()
            return len(self._pending)

    # ---- the API --------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], auth: str | None, body: Any
    ) -> Reply:
        """Answer one request, with the account's per-minute budget in its headers."""
        with self._lock:
            status, answer, headers = self._answer(method, path, query, auth, body)
            if status == 401:
                return status, answer, headers
            now = self.clock()
            self._minute = [at for at in self._minute if at > now - 60.0]
            if len(self._minute) >= self.requests_per_minute and status != 429:
                self.throttled += 1
                wait = self._minute[0] + 60.0 - now
                return (
                    429,
                    {
                        "error": "APIRateLimitExceeded",
                        "description": "Number of allowed API requests per minute exceeded",
                    },
                    {"Retry-After": str(max(1, math.ceil(wait)))},
                )
            self._minute.append(now)
            reset = self._minute[0] + 60.0 - now
            return (
                status,
                answer,
                {
                    "X-Rate-Limit": str(self.requests_per_minute),
                    "X-Rate-Limit-Remaining": str(self.requests_per_minute - len(self._minute)),
                    "ratelimit-reset": str(max(1, math.ceil(reset))),
                    **headers,
                },
            )

    def _answer(
        self, method: str, path: str, query: dict[str, str], auth: str | None, body: Any
    ) -> Reply:
        with self._lock:
            self.requests.append(f"{method} {path}" + (f"?{_query(query)}" if query else ""))
            self._advance()
            path = path.removesuffix(".json")
            if auth is None and path == "/api/v2/users/me":
                return 200, {"user": {"id": None, "name": "Anonymous user", "role": "end-user"}}, {}
            expected = base64.b64encode(f"{self.email}/token:{self.api_token}".encode()).decode()
            if auth != f"Basic {expected}":
                return 401, {"error": "Couldn't authenticate you"}, {}
            if self._answers:
                status, headers, answer = self._answers.pop(0)
                if status == 429:
                    self.throttled += 1
                return status, answer, headers
            if method == "GET" and path == "/api/v2/users/me":
                return 200, {"user": self._agent()}, {}
            if method == "GET" and path == "/api/v2/user_fields" and self.refuse_user_fields:
                return 403, {"error": "Forbidden", "description": "You do not have access"}, {}
            if method == "GET" and path == "/api/v2/user_fields":
                return self._user_fields(int(query.get("page", "1")))
            if method == "GET" and path == "/api/v2/job_statuses/show_many":
                return self._show_many(query.get("ids", ""))
            if method == "GET" and path.startswith("/api/v2/job_statuses/"):
                job = self._visible().get(path.rsplit("/", 1)[1])
                if job is None:
                    return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
                return 200, {"job_status": self._status(job)}, {}
            if method == "POST" and path == "/api/v2/users/create_or_update_many":
                return self._bulk("create_or_update_many", body)
            if method == "PUT" and path == "/api/v2/users/update_many":
                return self._bulk("update_many", body)
            return 404, {"error": "InvalidEndpoint", "description": "Not found"}, {}

    def _agent(self) -> dict[str, Any]:
        return {"id": 1, "name": "Acme Agent", "email": self.email, "role": self.agent_role}

    def _user_fields(self, page: int) -> Reply:
        size = self.fields_page_size
        listed = [f.as_json(i) for i, f in enumerate(self.user_fields)]
        chunk = listed[(page - 1) * size : page * size]
        more = page * size < len(listed)
        following = f"{self.url}/api/v2/user_fields.json?page={page + 1}" if more else None
        body = {"user_fields": chunk, "next_page": following, "count": len(listed)}
        return 200, body, {}

    def _bulk(self, kind: str, body: Any) -> Reply:
        users = body.get("users") if isinstance(body, dict) else None
        if not isinstance(users, list) or not users:
            return 400, {"error": "InvalidValue", "description": "users: required"}, {}
        if len(users) > MAX_USERS:
            description = f"users: no more than {MAX_USERS} users may be sent in one request"
            return 400, {"error": "TooManyValues", "description": description}, {}
        if not self.imports_enabled:
            return 403, {"error": "Forbidden", "description": "Data imports are not enabled"}, {}
        now = self.clock()
        self._window = [(at, n) for at, n in self._window if at > now - 1.0]
        used = sum(n for _, n in self._window)
        headers: dict[str, str] = {}
        if used + len(users) > self.users_per_second:
            # Wait until enough of the last second's users have left the window.
            freed, wait = 0, 1.0
            for at, n in self._window:
                freed += n
                if used - freed + len(users) <= self.users_per_second:
                    wait = at + 1.0 - now
                    break
            self.throttled += 1
            headers |= {"Retry-After": str(max(1, math.ceil(wait)))}
            body = {"error": "APIRateLimitExceeded", "description": "Too many users per second"}
            return 429, body, headers
        running = self._pending
        if len(running) >= self.job_cap:
            self.throttled += 1
            wait = min(job.done_at for job in running) - now
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            body = {"error": "TooManyJobs", "description": "Number of allowed jobs exceeded"}
            return 429, body, headers
        self._window.append((now, len(users)))
        job = Job(
            id=f"{next(self._job_ids):032x}",
            kind=kind,
            users=[dict(user) for user in users],
            created=now,
            working_at=now + self.queued_for,
            done_at=now + self.queued_for + self.working_for,
        )
        if self._job_endings:
            job.end, job.end_message = self._job_endings.pop(0)
        self.jobs[job.id] = job
        self._pending.append(job)
        return 200, {"job_status": self._status(job)}, headers

    def _show_many(self, ids: str) -> Reply:
        wanted = [part for part in ids.split(",") if part]
        if len(wanted) > 100:
            return 400, {"error": "InvalidValue", "description": "ids: at most 100"}, {}
        visible = self._visible()
        listed = [self._status(visible[i]) for i in wanted if i in visible]
        return 200, {"job_statuses": listed}, {}

    def _visible(self) -> dict[str, Job]:
        now = self.clock()
        # Jobs are kept in creation order: the newest `keep_jobs` are listed.
        recent = itertools.islice(reversed(self.jobs.values()), self.keep_jobs)
        return {job.id: job for job in recent if now < job.created + self.job_ttl}

    def _status(self, job: Job) -> dict[str, Any]:
        now = self.clock()
        if job.finished:
            status = job.end
        elif now >= job.working_at:
            status = "working"
        else:
            status = "queued"
        done = job.finished and job.end == "completed"
        stamp = datetime.fromtimestamp(job.done_at, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")
        message = {
            "completed": f"Completed at {stamp}",
            "working": "Working",
            "queued": None,
        }.get(status, job.end_message)
        return {
            "id": job.id,
            "url": f"{self.url}/api/v2/job_statuses/{job.id}.json",
            "status": status,
            "job_type": "Bulk Create Or Update Users"
            if job.kind == "create_or_update_many"
            else "Bulk Update Users",
            "total": len(job.users),
            "progress": len(job.users) if job.finished else 0,
            "message": message,
            "results": job.results if done else None,
        }

    # ---- applying jobs ----------------------------------------------------------------------

    def _advance(self) -> None:
        """Finish, in creation order, every job whose time has come."""
        now = self.clock()
        waiting: list[Job] = []
        for job in self._pending:
            if now < job.done_at:
                waiting.append(job)
                continue
            job.finished = True
            if job.end == "completed":
                job.results = [self._apply(job.kind, i, user) for i, user in enumerate(job.users)]
        self._pending = waiting

    def _match(self, external_id: Any, email: Any) -> dict[str, Any] | None:
        if external_id is not None:
            found = self._by_external_id.get(str(external_id).lower())
            if found is not None:
                return self.users[found]
        if email is not None:
            found = self._by_email.get(str(email).lower())
            if found is not None:
                return self.users[found]
        return None

    def _index(self, user: dict[str, Any], *, old_external_id: Any = None) -> None:
        """Keep the lookups by external_id and email (a benchmark sends 100k users)."""
        if old_external_id is not None:
            self._by_external_id.pop(str(old_external_id).lower(), None)
        if user.get("external_id") is not None:
            self._by_external_id[str(user["external_id"]).lower()] = user["id"]
        for email in [user.get("email"), *user.get("identities", [])]:
            if email:
                self._by_email[str(email).lower()] = user["id"]

    def _apply(self, kind: str, index: int, sent: dict[str, Any]) -> dict[str, Any]:
        """Write one user as the job's worker would; its result."""
        for identifier in (sent.get("external_id"), sent.get("email")):
            if identifier is not None and str(identifier).lower() in self._failures:
                error, details = self._failures[str(identifier).lower()]
                return _failed(index, error, details)
        email = sent.get("email")
        if kind == "update_many":
            user = self.users.get(sent["id"]) if "id" in sent else None
            if user is None and sent.get("external_id") is not None:
                user = self._match(sent["external_id"], None)
            if user is None:
                return _failed(index, "RecordNotFound", "User not found")
        else:
            user = self._match(sent.get("external_id"), email)
        if user is not None and email is not None:
            owner = self._match(None, email)
            if owner is not None and owner["id"] != user["id"]:
                details = f"Email: {email} is already being used by another user"
                return _failed(index, "UserUpdateError", details)
        if user is None:
            if not str(sent.get("name") or "").strip():
                details = "Name: is too short (minimum is 1 character)"
                return _failed(index, "RecordInvalid", details)
            user = {"id": next(self._ids), "user_fields": {}, "identities": []}
            self.users[user["id"]] = user
            created = True
        else:
            created = False
        known = {f.key for f in self.user_fields}
        old_external_id = user.get("external_id")
        for key, value in sent.items():
            if key == "user_fields":
                # Unknown keys are ignored with a 200, as Zendesk does.
                user["user_fields"].update({k: v for k, v in value.items() if k in known})
            elif key == "email" and not created and user.get("email"):
                if str(value).lower() != str(user["email"]).lower():
                    user["identities"].append(value)  # a secondary identity
            elif key != "id":
                user[key] = value
        self._index(user, old_external_id=old_external_id)
        self.writes[user["id"]] += 1
        if kind == "update_many":
            return {"id": user["id"], "action": "update", "status": "Updated", "success": True}
        result: dict[str, Any] = {"id": user["id"], "index": index}
        result["status"] = "Created" if created else "Updated"
        if sent.get("external_id") is not None:
            result["external_id"] = sent["external_id"]
        else:
            result["email"] = email
        return result


def _failed(index: int, error: str, details: str) -> dict[str, Any]:
    return {"index": index, "status": "Failed", "error": error, "details": details}


def _query(query: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(query.items()))


@contextmanager
def serve_zendesk(**options: Any) -> Iterator[FakeZendesk]:
    """Run a `FakeZendesk(**options)` on a free loopback port for the block."""
    fake = FakeZendesk(**options)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go in two writes: without this, each keep-alive answer waits on
        # the client's delayed ACK (40 ms).
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                body = None
            status, answer, headers = fake.handle(
                self.command, parts.path, query, self.headers.get("Authorization"), body
            )
            payload = orjson.dumps(answer)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutting the fake down waits for one.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
