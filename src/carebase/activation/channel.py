"""What a run needs from a destination, whatever its kind: one interface, three kinds.

A run asks its destination's `Channel` to `prepare` each record (validate and normalise its
mapped fields: a record that fails is reported, never sent), then delivers the prepared
records in batches of `batch_size`:

- record by record (Zendesk, webhooks): `submit` a batch; a synchronous destination answers
  at once with an outcome per record, an asynchronous one (Zendesk's bulk jobs) with a
  `handle` that `poll` follows to its outcomes, with at most `max_in_flight` handles open;
- as one file (SFTP): `write_file` writes every record, whole or not at all.

A record counts as delivered only on the destination's own acknowledgement (an outcome).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import httpx

from carebase.db.session import Database

# How each sync mode is asked of a destination: create or update, or update existing only.
SyncMode = Literal["upsert", "update_only"]


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record on its way out: its key (what identifies it to the diff and in results)
    and its fields, named as the destination names them (`user_fields.city`)."""

    key: str
    fields: dict[str, Any]


class RecordInvalid(Exception):
    """A record that cannot be sent as it is: `code` (stable, e.g. `missing_name`), the
    `field` at fault when there is one, and a message saying why."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message


class ChannelFailed(Exception):
    """The destination cannot take anything now (bad credentials, imports disabled, host key
    mismatch): the run fails with this message. `retry_after` is set when a later attempt may
    succeed (an outage, a 429 longer than a run waits in place), and None when it cannot."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Outcome:
    """The destination's answer for one record: delivered (`ok`, with what it did and its id
    for the record, when it says), or rejected with its own code and message."""

    ok: bool
    action: str | None = None  # created | updated | delivered | written
    remote_id: str | None = None
    error_code: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Submitted:
    """What `submit` got back: outcomes (one per record, in order) when the destination
    answered at once, or the handle of the remote job that will."""

    handle: str | None = None
    outcomes: list[Outcome] | None = None


# A handle `poll` no longer finds (Zendesk keeps jobs about an hour): its records are sent
# again (upserts are idempotent).
EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class CheckStep:
    """One step of "test connection": what was tried, whether it worked, and what happened
    (exactly what failed, when it did)."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class WrittenFile:
    """A file a whole-file destination wrote: its final name, rows and bytes."""

    path: str
    rows: int
    bytes: int


@dataclass(slots=True)
class ChannelContext:
    """Everything a channel is opened with. `config` and `secrets` are the destination's
    validated settings and decrypted secrets. Tests point channels at loopback servers with
    `allow_private` and may pass a `transport`, a fake `sleep` and shorter `poll_interval`."""

    config: dict[str, Any]
    secrets: dict[str, str]
    mode: SyncMode = "upsert"
    allow_private: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    # The destination's id: names its shared pacing budget and the files it writes.
    destination_id: str = ""
    # Given, the channel books its request slots in a budget shared by every process
    # (`carebase.kit.pacing.SharedPacer`, bucket `destination:{destination_id}`); None:
    # in-process pacing (a connection test, a unit test).
    database: Database | None = None
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] | None = None
    timer: Callable[[], float] = time.time
    poll_interval: float = 1.0
    # The run's identity, for file names and webhook bodies.
    run_id: str = ""
    orchestration_id: str = ""
    orchestration_name: str = ""
    run_started_at: datetime | None = None


class Channel(Protocol):
    """An open connection to one destination, for one run (or one connection test)."""

    batch_size: int
    max_in_flight: int
    whole_file: bool

    def check(self) -> list[CheckStep]:
        """Test the connection step by step; stops at the first step that fails."""
        ...

    def prepare(self, record: OutRecord) -> dict[str, Any]:
        """The record's fields as they will be sent (normalised), or RecordInvalid."""
        ...

    def submit(self, records: Sequence[OutRecord], *, batch_id: str) -> Submitted:
        """Send one batch of prepared records (`batch_id` is stable across retries of the
        same batch, for receivers that deduplicate). ChannelFailed when nothing can go."""
        ...

    def poll(self, handles: Sequence[str]) -> Mapping[str, list[Outcome] | str | None]:
        """For each handle: its outcomes once the remote job ended, None while it runs, or
        EXPIRED when the destination no longer knows it."""
        ...

    def write_file(self, records: Iterable[OutRecord]) -> WrittenFile:
        """Whole-file destinations: write every record as one file, complete or not at all."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True, slots=True)
class DestinationKind:
    """One kind of destination, as the registry (`activation.kinds`) lists it: what its
    settings and secrets are (pydantic models: a bad field is a 422 naming it), which sync
    modes it supports, and how a channel to it is opened."""

    name: str
    title: str
    config_model: type[Any]
    secrets_model: type[Any]
    modes: tuple[SyncMode, ...]
    open: Callable[[ChannelContext], Channel]
    # Secrets carebase makes when they are not given (a webhook's signing secret, an SFTP
    # key pair): the completed secrets, and which of them to show once to the creator.
    complete_secrets: Callable[[dict[str, str]], tuple[dict[str, str], dict[str, str]]] = (
        lambda given: (given, {})
    )
    # What may be shown of a destination besides its config (the SFTP public key to
    # authorise on the server); never a secret.
    public_details: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]] = (
        lambda _config, _secrets: {}
    )
    # The fields a record may carry, for docs and the console: (name or pattern, meaning).
    fields: tuple[tuple[str, str], ...] = ()
