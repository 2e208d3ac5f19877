"""The `mention_sla_export` report: an asynchronous CSV of the mention cohort's SLA
responses.

POST /v1/activity/reports queues an `activity_export` job and answers a random token (only
its SHA-256 is stored). The job streams the cohort in keyset pages of `BATCH` mentions with
bulk look-ups, writing the CSV as zlib-compressed chunks of about `CHUNK_BYTES` and
committing as it goes, so its memory stays flat however long the window; a retry starts
over. The status call answers a download URL signed with the installation secret
(HMAC-SHA256 of id and expiry), which needs no token and works `export_link_seconds`. An
export is deleted `export_retention_hours` after it ends (purged at each export job's start
and at each status call).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from carebase.activity import cohort
from carebase.activity import exports_csv as csvrows
from carebase.activity import exports_repository as repository
from carebase.activity.registry import ReportQuery, report
from carebase.activity.timebuckets import Window
from carebase.db.session import Database
from carebase.errors import BadSignature, LinkExpired, NotFound
from carebase.ids import new_id
from carebase.kit.jobs import Failure, GiveUp, JobContext, JobKind, JobSpec, RetryPolicy, enqueue
from carebase.kit.jobs.runner import GIVEN_BACK
from carebase.settings import Settings

EXPORT = JobSpec(
    "activity_export", RetryPolicy(max_attempts=3, first_seconds=30.0, max_seconds=600.0)
)
TYPE = "mention_sla_export"
BATCH = 2000
CHUNK_BYTES = 1 << 20
# A pending export that no worker ever runs is still deleted eventually.
PENDING_KEEP = timedelta(days=7)
MAX_ERROR = 2000


def hash_token(token: str) -> str:
    """What is stored for a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def query_params(query: ReportQuery) -> dict[str, Any]:
    """The validated query as JSON: the window's instants and zone, and the filters."""
    window = query.window
    return {
        "date_from": window.date_from.isoformat(),
        "date_to": window.date_to.isoformat(),
        "zone": window.zone.key,
        "users": None if query.users is None else list(query.users),
        "groups": None if query.groups is None else list(query.groups),
        "classifications": None if query.classifications is None else list(query.classifications),
    }


def query_of(params: dict[str, Any], *, now: datetime, dialect: str) -> ReportQuery:
    """The ReportQuery stored `params` describe."""

    def ids(key: str) -> tuple[int, ...] | None:
        values = params.get(key)
        return None if values is None else tuple(int(v) for v in values)

    zone = ZoneInfo(str(params["zone"]))
    window = Window(
        datetime.fromisoformat(params["date_from"]).astimezone(zone),
        datetime.fromisoformat(params["date_to"]).astimezone(zone),
        zone,
    )
    return ReportQuery(
        window=window,
        users=ids("users"),
        groups=ids("groups"),
        classifications=ids("classifications"),
        form=None,
        nps_category="all",
        now=now,
        dialect=dialect,
    )


@report(TYPE, title="Mention SLA export", section="Export")
def start_export(session: Session, query: ReportQuery) -> dict[str, Any]:
    """Starts a CSV export of the mentions published in the window (with the filters): one
    row per mention with its timings, SLA outcomes, agent, classifications, message, first
    response and notes. Answers `{"status": "pending", "url": null, "token"}`; poll GET
    /v1/activity/reports/status?token=… for the signed download URL."""
    token = secrets.token_urlsafe(32)
    export_id = new_id("exp")
    job_id, _ = enqueue(session, EXPORT, {"export_id": export_id}, now=query.now)
    repository.add_export(
        session,
        {
            "id": export_id,
            "token_hash": hash_token(token),
            "type": TYPE,
            "params": query_params(query),
            "status": "pending",
            "requested_by": query.requested_by,
            "job_id": job_id,
            "rows": 0,
            "size_bytes": 0,
            "error": None,
            "created_at": query.now,
            "completed_at": None,
            "expires_at": query.now + PENDING_KEEP,
        },
    )
    return {"status": "pending", "url": None, "token": token}


def signature(secret: str, export_id: str, expires: int) -> str:
    """HMAC-SHA256 (hex) of the export's id and the link's expiry."""
    message = f"{export_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_url(settings: Settings, export_id: str, now: datetime) -> str:
    """The download URL, valid `export_link_seconds` from now."""
    expires = int(now.timestamp()) + settings.export_link_seconds
    sign = signature(settings.secret_key.get_secret_value(), export_id, expires)
    return (
        f"{settings.base_url}/v1/activity/exports/{export_id}.csv"
        f"?expires={expires}&signature={sign}"
    )


def status(database: Database, token: str, *, settings: Settings, now: datetime) -> dict[str, Any]:
    """The export's status (and a fresh signed URL once complete), after purging expired
    exports in a transaction of their own; NotFound for a token never handed out or an
    export already purged."""
    purge(database, now)
    with database.unit_of_work(write=False) as session:
        row = repository.export_by_token_hash(session, hash_token(token))
        if row is None:
            raise NotFound("No export has this token (exports are deleted after a while).")
        export_id, state, rows, error = row.id, row.status, row.rows, row.error
    complete = state == "complete"
    return {
        "status": state,
        "url": signed_url(settings, export_id, now) if complete else None,
        "token": token,
        "rows": rows if complete else None,
        "error": error if state == "failed" else None,
    }


def purge(database: Database, now: datetime) -> int:
    """Delete the exports kept past `expires_at`, in a transaction of its own (committed even
    when the caller's request then fails); how many."""
    with database.unit_of_work() as session:
        return repository.purge_expired(session, now)


def verify(settings: Settings, export_id: str, expires: int, sign: str, now: datetime) -> None:
    """Refuse a link whose signature does not match (BadSignature) or that has expired
    (LinkExpired); both 403."""
    expected = signature(settings.secret_key.get_secret_value(), export_id, expires)
    if not hmac.compare_digest(expected.encode(), sign.lower().encode()):
        raise BadSignature()
    if expires < now.timestamp():
        raise LinkExpired()


def download(database: Database, export_id: str, *, now: datetime) -> Iterator[bytes]:
    """The export's CSV bytes, one decompressed chunk at a time (each read in its own
    short transaction); NotFound when it is unknown, purged or not complete."""
    with database.unit_of_work(write=False) as session:
        row = repository.get_export(session, export_id)
        if row is None or row.status != "complete" or row.expires_at < now:
            raise NotFound("This export does not exist (any more).")
        seqs = repository.chunk_seqs(session, export_id)

    def stream() -> Iterator[bytes]:
        for seq in seqs:
            with database.unit_of_work(write=False) as session:
                data = repository.chunk_data(session, export_id, seq)
            if data is not None:
                yield zlib.decompress(data)

    return stream()


class _ChunkWriter:
    """CSV text gathered until about CHUNK_BYTES, then stored compressed and committed."""

    def __init__(self, database: Database, export_id: str, chunk_bytes: int) -> None:
        self.database, self.export_id, self.chunk_bytes = database, export_id, chunk_bytes
        self.buffer = io.BytesIO()
        self.seq = 0
        self.size = 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.buffer.write(data)
        self.size += len(data)
        if self.buffer.tell() >= self.chunk_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.buffer.tell():
            return
        data = zlib.compress(self.buffer.getvalue(), 6)
        with self.database.unit_of_work() as session:
            repository.add_chunk(session, self.export_id, self.seq, data)
        self.seq += 1
        self.buffer = io.BytesIO()


def write_export(
    database: Database,
    export_id: str,
    *,
    now: datetime,
    batch: int = BATCH,
    chunk_bytes: int = CHUNK_BYTES,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[int, int] | None:
    """Write the export's CSV as chunks, from scratch (earlier chunks are deleted): (rows,
    bytes), or None when the export no longer exists. `on_batch(rows so far)` runs before
    each batch (the job's progress, which raises when it is cancelled)."""
    purge(database, now)
    with database.unit_of_work() as session:
        row = repository.get_export(session, export_id)
        if row is None:
            return None
        params = dict(row.params)
        repository.delete_chunks(session, export_id)
        dialect = session.get_bind().dialect.name
    try:
        query = query_of(params, now=now, dialect=dialect)
    except (KeyError, TypeError, ValueError) as unreadable:
        # Stored valid; no retry makes it read (a zone gone from the system's tzdata).
        raise GiveUp(f"the export's query no longer reads: {unreadable!r}") from unreadable
    conditions = cohort.mention_conditions(query)
    writer = _ChunkWriter(database, export_id, chunk_bytes)
    writer.write(csvrows.header_text())
    rows = 0
    after: tuple[datetime, str] | None = None
    while True:
        if on_batch is not None:
            on_batch(rows)
        with database.unit_of_work(write=False) as session:
            page = repository.mention_page(session, conditions, after, batch)
            if not page:
                break
            found = _lookups(session, page)
        writer.write(csvrows.rows_text(page, found))
        rows += len(page)
        last = page[-1]
        after = (last["published_at"], last["id"])
        del page, found
    writer.flush()
    return rows, writer.size


def _lookups(session: Session, page: list[Any]) -> csvrows.Lookups:
    """The batch's names, responses, notes, classifications and profile notes, in bulk."""
    mention_ids = [m["id"] for m in page]
    users = {m["first_responder_id"] or m["assignee_id"] for m in page} - {None}
    profiles = {m["profile_id"] for m in page if m["profile_id"] and not m["forgotten"]}
    return csvrows.Lookups(
        names=repository.user_names(session, users),
        first_response=repository.first_public_responses(session, mention_ids),
        notes=repository.private_notes(session, mention_ids),
        classifications=repository.classification_names(session, mention_ids),
        profile_notes=repository.profile_notes(session, profiles),
    )


def job_kind(settings: Settings) -> JobKind:
    """The `activity_export` job kind, keeping files `export_retention_hours`."""

    def handle(context: JobContext) -> dict[str, Any] | None:
        export_id = str(context.payload["export_id"])
        written = write_export(
            context.database, export_id, now=context.clock(), on_batch=context.progress
        )
        now = context.clock()
        with context.database.unit_of_work() as session:
            if written is None or repository.get_export(session, export_id) is None:
                context.complete(session, {"export": "gone"})
                return None
            rows, size = written
            repository.set_export(
                session,
                export_id,
                status="complete",
                rows=rows,
                size_bytes=size,
                error=None,
                completed_at=now,
                expires_at=now + timedelta(hours=settings.export_retention_hours),
            )
            context.complete(session, {"rows": rows, "size_bytes": size})
        return {"rows": rows, "size_bytes": size}

    def mirror_failure(session: Session, payload: dict[str, Any], failure: Failure) -> None:
        """A final failure shows on the export's status, with the error; its chunks go."""
        export_id = str(payload["export_id"])
        if failure.error == GIVEN_BACK or not failure.final:
            return
        repository.delete_chunks(session, export_id)
        repository.set_export(
            session,
            export_id,
            status="failed",
            error=failure.error[:MAX_ERROR],
            completed_at=failure.at,
            expires_at=failure.at + timedelta(hours=settings.export_retention_hours),
        )

    return JobKind(EXPORT, handle, on_failure=mirror_failure)
