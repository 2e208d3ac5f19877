"""An SFTP directory as a destination: each run writes one file (CSV or NDJSON), whole.

Security: key authentication only, and the server's host key pinned in the destination's
settings; without a pin nothing is sent and "test connection" shows the key the server
offered (and its fingerprint) for a person to check and pin; a different key refuses the
server, naming both fingerprints. Nothing is ever trusted on first use.

A file is written as `<name>.part`, its size checked, then renamed to `<name>` in one step
(`posix-rename@openssh.com`), so a reader of the directory never sees half a file. The name
comes from the run (its orchestration, start time and id), so a resumed run rewrites the
same file. CSV's columns are every field the records carry, in first-seen order: the rows are
spooled locally while the columns are gathered, then uploaded; NDJSON streams straight out.
"""

from __future__ import annotations

import base64
import posixpath
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import IO, Any, Literal

import orjson
import paramiko
from pydantic import BaseModel, ConfigDict, Field, field_validator

from carebase.activation.channel import (
    Channel,
    ChannelContext,
    ChannelFailed,
    CheckStep,
    DestinationKind,
    Outcome,
    OutRecord,
    Submitted,
    WrittenFile,
)
from carebase.activation.sftp_connect import (
    Connection,
    Connector,
    StepFailed,
    io_reason,
    remove_quietly,
)
from carebase.activation.sftp_format import (
    PART_SUFFIX,
    csv_cell,
    csv_line,
    file_name,
    ndjson_line,
    plain_fields,
    validate_file_name,
)
from carebase.activation.sftp_keys import (
    fingerprint,
    generate_private_key,
    load_private_key,
    parse_public_key,
    public_key_of,
)
from carebase.http.outbound import OutboundInterrupted

# CSV rows wait in memory up to this much, then in a local temp file.
SPOOL_BYTES = 8 << 20
WRITE_CHUNK = 256 << 10


class SftpConfig(BaseModel):
    """Where files land, how they are named, and the server's pinned host key."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=100)
    directory: str = Field(default=".", min_length=1, max_length=500)
    # The server's public host key as an OpenSSH line ("ssh-ed25519 AAAA…"); without it,
    # nothing is sent and "test connection" shows the key the server offered, to pin.
    host_key: str | None = Field(default=None, max_length=5000)
    file_format: Literal["csv", "ndjson"] = "csv"
    # Placeholders: {orchestration} (its name, made file-safe), {date} (YYYYMMDD of the run,
    # UTC), {time} (HHMMSS), {run} (the run id), {ext} (csv or ndjson).
    file_name: str = Field(default="{orchestration}-{date}-{run}.{ext}", max_length=200)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        if not value or any(char in value for char in " \t\r\n/@\x00"):
            raise ValueError("a host name or an IP address, without user, port or path")
        return value

    @field_validator("username", "directory")
    @classmethod
    def _no_control(cls, value: str) -> str:
        if any(char in value for char in "\r\n\x00"):
            raise ValueError("no line breaks or NUL characters")
        return value

    @field_validator("host_key")
    @classmethod
    def _host_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        kind, blob = parse_public_key(value)
        return f"{kind} {_b64(blob)}"

    @field_validator("file_name")
    @classmethod
    def _file_name(cls, value: str) -> str:
        return validate_file_name(value)


class SftpSecrets(BaseModel):
    """The client's private key (OpenSSH format); generated (Ed25519) when not given."""

    model_config = ConfigDict(extra="forbid")

    private_key: str | None = Field(default=None, max_length=20000)

    @field_validator("private_key")
    @classmethod
    def _private_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        load_private_key(value)
        return value


def _b64(blob: bytes) -> str:
    return base64.b64encode(blob).decode("ascii")


class SftpChannel:
    """Writes each run's records as one file in the destination's directory."""

    batch_size = 1000
    max_in_flight = 1
    whole_file = True

    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        self.config = SftpConfig.model_validate(context.config)
        self.connector = Connector(
            host=self.config.host,
            port=self.config.port,
            username=self.config.username,
            directory=self.config.directory,
            host_key=self.config.host_key,
            private_key=context.secrets.get("private_key") or "",
            allow_private=context.allow_private,
        )
        self._open: list[Connection] = []

    def _connect(self, steps: list[CheckStep]) -> Connection:
        connection = self.connector.connect(steps)
        self._open.append(connection)
        return connection

    def check(self) -> list[CheckStep]:
        """Connect, check the host key, authenticate, open the directory, and write, rename
        and remove a test file; stops at the first step that fails."""
        steps: list[CheckStep] = []
        try:
            connection = self._connect(steps)
        except StepFailed as failed:
            return [*steps, CheckStep(failed.step, False, failed.detail)]
        try:
            probe = posixpath.join(connection.directory, f".carebase-check-{uuid.uuid4().hex}")
            try:
                with connection.sftp.open(probe + PART_SUFFIX, "wb") as handle:
                    handle.write(b"carebase connection test\n")
                connection.sftp.posix_rename(probe + PART_SUFFIX, probe)
                connection.sftp.remove(probe)
            except (OSError, paramiko.SSHException) as error:
                remove_quietly(connection.sftp, probe + PART_SUFFIX)
                reason = io_reason(error, probe) if isinstance(error, OSError) else str(error)
                return [*steps, CheckStep("write a test file", False, reason)]
            detail = f"wrote, renamed and removed {posixpath.basename(probe)}"
            return [*steps, CheckStep("write a test file", True, detail)]
        finally:
            self._close(connection)

    def prepare(self, record: OutRecord) -> dict[str, Any]:
        """The record's fields as written (plain values), or RecordInvalid."""
        return plain_fields(record.fields)

    def submit(self, records: Sequence[OutRecord], *, batch_id: str) -> Submitted:
        """Not used: an SFTP destination writes whole files (`write_file`)."""
        raise TypeError("an SFTP destination writes whole files: call write_file")

    def poll(self, handles: Sequence[str]) -> Mapping[str, list[Outcome] | str | None]:
        """Nothing to follow: a file is written or not."""
        return {}

    def write_file(self, records: Iterable[OutRecord]) -> WrittenFile:
        """Write every record as `<name>.part`, check its size, then rename it to `<name>`;
        ChannelFailed (and no file) when that cannot be done."""
        try:
            connection = self._connect([])
        except StepFailed as failed:
            raise ChannelFailed(
                f"{failed.step}: {failed.detail}", retry_after=failed.retry_after
            ) from failed
        context = self.context
        try:
            name = file_name(
                self.config.file_name,
                orchestration=context.orchestration_name or context.orchestration_id,
                run_id=context.run_id or uuid.uuid4().hex,
                started_at=context.run_started_at,
                ext=self.config.file_format,
            )
        except ValueError as error:
            self._close(connection)
            raise ChannelFailed(str(error)) from error
        final = posixpath.join(connection.directory, name)
        try:
            if self.config.file_format == "csv":
                with _csv_spool(records, context) as (columns, rows, spool):
                    lines = _csv_lines(columns, spool)
                    written = self._upload(connection, final, lines)
            else:
                rows = 0

                def ndjson() -> Iterator[str]:
                    nonlocal rows
                    for record in records:
                        _stop_check(context)
                        rows += 1
                        yield ndjson_line(record.fields)

                written = self._upload(connection, final, ndjson())
            return WrittenFile(path=final, rows=rows, bytes=written)
        finally:
            self._close(connection)

    def _upload(self, connection: Connection, final: str, lines: Iterable[str]) -> int:
        """Stream the lines to `final.part`, check its size, rename it to `final`; bytes."""
        sftp, part = connection.sftp, final + PART_SUFFIX
        written = 0
        try:
            with sftp.open(part, "wb") as handle:
                # Writes go out without waiting for each acknowledgement; close() collects
                # them, and raises if the server refused any.
                handle.set_pipelined(True)
                chunk: list[bytes] = []
                size = 0
                for line in lines:
                    if self.context.stop.is_set():
                        raise OutboundInterrupted(f"stopped while writing {part}")
                    data = line.encode("utf-8")
                    chunk.append(data)
                    size += len(data)
                    if size >= WRITE_CHUNK:
                        handle.write(b"".join(chunk))
                        written += size
                        chunk, size = [], 0
                if chunk:
                    handle.write(b"".join(chunk))
                    written += size
            landed = sftp.stat(part).st_size
            if landed != written:
                raise ChannelFailed(
                    f"{part} holds {landed} bytes, not the {written} written", retry_after=60
                )
            _publish(sftp, part, final)
        except ChannelFailed:
            remove_quietly(sftp, part)
            raise
        except (OSError, paramiko.SSHException, EOFError) as error:
            remove_quietly(sftp, part)
            reason = io_reason(error, part) if isinstance(error, OSError) else str(error)
            raise ChannelFailed(f"writing {part} failed: {reason}", retry_after=60) from error
        except BaseException:
            remove_quietly(sftp, part)
            raise
        return written

    def _close(self, connection: Connection) -> None:
        if connection in self._open:
            self._open.remove(connection)
        connection.close()

    def close(self) -> None:
        """Close any connection still open."""
        for connection in list(self._open):
            self._close(connection)


def _stop_check(context: ChannelContext) -> None:
    if context.stop.is_set():
        raise OutboundInterrupted("stopped while writing the file")


@contextmanager
def _csv_spool(
    records: Iterable[OutRecord], context: ChannelContext
) -> Iterator[tuple[list[str], int, IO[str]]]:
    """Every record's plain fields spooled as JSON lines, with the columns they use (first
    seen first) and the row count."""
    columns: dict[str, None] = {}
    rows = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        for record in records:
            _stop_check(context)
            # Prepared already (`prepare` made the fields plain): written as they are.
            fields = record.fields
            for name in fields:
                columns.setdefault(name)
            spool.write(ndjson_line(fields))
            rows += 1
        spool.seek(0)
        yield list(columns), rows, spool


def _csv_lines(columns: list[str], spool: IO[str]) -> Iterator[str]:
    if not columns:
        return
    yield csv_line(columns)
    for line in spool:
        fields = orjson.loads(line)
        yield csv_line(csv_cell(fields.get(column)) for column in columns)


def _publish(sftp: paramiko.SFTPClient, part: str, final: str) -> None:
    """Rename in one step, replacing a file of the same name (a resumed run's)."""
    try:
        sftp.posix_rename(part, final)
        return
    except OSError as error:
        # Servers without OpenSSH's extension answer "unsupported"; anything else is real.
        if "unsupported" not in str(error).lower():
            raise
    remove_quietly(sftp, final)
    sftp.rename(part, final)


def open_channel(context: ChannelContext) -> Channel:
    """A channel to the SFTP server."""
    return SftpChannel(context)


def complete_secrets(given: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A new Ed25519 key pair when no private key is given; nothing is shown once (the
    public key stays visible in `public_details`, the private key never leaves)."""
    if given.get("private_key"):
        return given, {}
    return {**given, "private_key": generate_private_key()}, {}


def public_details(config: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any]:
    """The public key to authorise on the server and its fingerprint, and the pinned host
    key's fingerprint; never a secret."""
    details: dict[str, Any] = {}
    if secrets.get("private_key"):
        with suppress(ValueError):
            details["public_key"], details["fingerprint"] = public_key_of(secrets["private_key"])
    if config.get("host_key"):
        with suppress(ValueError):
            details["host_key_fingerprint"] = fingerprint(parse_public_key(config["host_key"])[1])
    return details


KIND = DestinationKind(
    name="sftp",
    title="SFTP",
    config_model=SftpConfig,
    secrets_model=SftpSecrets,
    modes=("upsert",),
    open=open_channel,
    complete_secrets=complete_secrets,
    public_details=public_details,
    fields=(
        (
            "any field",
            "a CSV column (every field the records carry, first seen first) or a "
            "key of each NDJSON line",
        ),
    ),
)
