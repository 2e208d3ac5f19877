"""The SFTP destination against a real OpenSSH sshd: files land whole under their final name,
the host key is pinned (never trusted on first use), keys authenticate, and "test
connection" says exactly which step failed."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from carebase.activation.channel import ChannelContext, ChannelFailed, OutRecord
from carebase.activation.sftp import KIND, SftpChannel, SftpConfig
from carebase.activation.sftp_keys import fingerprint, generate_private_key, parse_public_key
from carebase.http.outbound import OutboundInterrupted
from tests.activation.sshd import SshServer
from tests.pg import free_port

STARTED = datetime(2026, 11, 29, 6, 0, 5, tzinfo=UTC)
# A key sshd never offered: what a server in the middle would show.
OTHER_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnGk+4IV1BHVvMUuNd7bRiD4dEKNjSJN1nprm41l8oL"


@pytest.fixture
def directory(sshd: SshServer) -> Path:
    """This test's own directory on the server."""
    path = sshd.root / uuid.uuid4().hex
    path.mkdir()
    return path


def channel_for(
    sshd: SshServer,
    directory: Path,
    *,
    secrets: dict[str, str] | None = None,
    allow_private: bool = True,
    **config: Any,
) -> SftpChannel:
    """A channel to the test's sshd, pinned to its host key, as a run opens it."""
    settings = {
        "host": sshd.host,
        "port": sshd.port,
        "username": sshd.username,
        "directory": str(directory),
        "host_key": sshd.host_key,
        **config,
    }
    context = ChannelContext(
        config=SftpConfig.model_validate(settings).model_dump(),
        secrets=secrets if secrets is not None else {"private_key": sshd.client_key},
        allow_private=allow_private,
        destination_id="dst_1",
        run_id="run_42",
        orchestration_id="orc_1",
        orchestration_name="Daily VIPs",
        run_started_at=STARTED,
    )
    channel = KIND.open(context)
    assert isinstance(channel, SftpChannel)
    return channel


def people(count: int) -> Iterator[OutRecord]:
    """`count` records with the same fields."""
    for index in range(count):
        yield OutRecord(
            key=f"p{index}",
            fields={"external_id": f"p{index}", "name": f"Person {index}", "score": index},
        )


def test_csv_lands_whole_under_its_final_name(sshd: SshServer, directory: Path) -> None:
    channel = channel_for(sshd, directory)
    final = directory / "Daily-VIPs-20261129-run_42.csv"
    seen: list[tuple[str, int]] = []
    done = threading.Event()

    def watch() -> None:
        # A reader polling the directory while the file is written.
        while not done.is_set():
            for entry in os.scandir(directory):
                size = entry.stat().st_size if entry.name == final.name else -1
                seen.append((entry.name, size))
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        written = channel.write_file(people(10_000))
    finally:
        done.set()
        watcher.join()
        channel.close()
    assert written.path == str(final)
    assert written.rows == 10_000
    content = final.read_bytes()
    assert written.bytes == len(content)
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["external_id", "name", "score"]
    assert rows[1] == ["p0", "Person 0", "0"]
    assert rows[-1] == ["p9999", "Person 9999", "9999"]
    assert len(rows) == 10_001
    # The final name was never seen holding less than the whole file.
    assert {size for name, size in seen if name == final.name} <= {len(content)}
    assert sorted(os.listdir(directory)) == [final.name]


def test_ndjson_is_written_as_part_then_renamed(sshd: SshServer, directory: Path) -> None:
    channel = channel_for(sshd, directory, file_format="ndjson", file_name="{run}-{time}.{ext}")
    final = directory / "run_42-060005.ndjson"
    observed: list[list[str]] = []

    def records() -> Iterator[OutRecord]:
        for index, record in enumerate(people(3000)):
            if index in (1, 2999):
                # Mid-write: only the .part is there.
                observed.append(sorted(os.listdir(directory)))
            yield record

    written = channel.write_file(records())
    channel.close()
    assert observed == [[final.name + ".part"], [final.name + ".part"]]
    assert sorted(os.listdir(directory)) == [final.name]
    lines = final.read_text().splitlines()
    assert len(lines) == written.rows == 3000
    assert json.loads(lines[7]) == {"external_id": "p7", "name": "Person 7", "score": 7}


def test_csv_columns_are_every_field_first_seen_first(sshd: SshServer, directory: Path) -> None:
    channel = channel_for(sshd, directory, file_name="export.{ext}")
    records = [
        OutRecord("a", {"email": "a@example.com", "name": 'Ann "A", Jr.', "vip": True}),
        OutRecord("b", {"email": "b@example.com", "city": "Köln\nNord", "tags": ["x", "y"]}),
        OutRecord("c", {"name": None, "email": "c@example.com", "vip": False}),
    ]
    prepared = [OutRecord(r.key, channel.prepare(r)) for r in records]
    channel.write_file(prepared)
    channel.close()
    text = (directory / "export.csv").read_bytes().decode("utf-8")
    assert list(csv.reader(io.StringIO(text))) == [
        ["email", "name", "vip", "city", "tags"],
        ["a@example.com", 'Ann "A", Jr.', "true", "", ""],
        ["b@example.com", "", "", "Köln\nNord", '["x","y"]'],
        ["c@example.com", "", "false", "", ""],
    ]
    assert text.startswith("email,name,vip,city,tags\r\n")


def test_a_resumed_run_rewrites_the_same_file(sshd: SshServer, directory: Path) -> None:
    first = channel_for(sshd, directory)
    first.write_file(people(5))
    first.close()
    again = channel_for(sshd, directory)
    again.write_file(people(2))
    again.close()
    [name] = os.listdir(directory)
    assert name == "Daily-VIPs-20261129-run_42.csv"
    assert len((directory / name).read_text().splitlines()) == 3


def test_a_stopped_write_leaves_nothing(sshd: SshServer, directory: Path) -> None:
    channel = channel_for(sshd, directory, file_format="ndjson")

    def records() -> Iterator[OutRecord]:
        yield from people(10)
        channel.context.stop.set()
        yield from people(10)

    with pytest.raises(OutboundInterrupted):
        channel.write_file(records())
    channel.close()
    assert os.listdir(directory) == []


def test_a_wrong_host_key_is_refused_and_nothing_is_written(
    sshd: SshServer, directory: Path
) -> None:
    channel = channel_for(sshd, directory, host_key=OTHER_HOST_KEY)
    offered = fingerprint(parse_public_key(sshd.host_key)[1])
    pinned = fingerprint(parse_public_key(OTHER_HOST_KEY)[1])
    with pytest.raises(ChannelFailed) as failed:
        channel.write_file(people(3))
    assert offered in str(failed.value)
    assert pinned in str(failed.value)
    assert failed.value.retry_after is None
    assert os.listdir(directory) == []
    steps = channel.check()
    assert [(s.name, s.ok) for s in steps] == [("connect", True), ("host key", False)]
    assert "refusing to connect" in steps[-1].detail


def test_a_pin_of_a_type_the_server_lacks_is_refused(sshd: SshServer, directory: Path) -> None:
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    line = other.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    steps = channel_for(sshd, directory, host_key=line).check()
    assert [(s.name, s.ok) for s in steps] == [("connect", True), ("host key", False)]
    assert "has no ecdsa-sha2-nistp256 host key" in steps[-1].detail


def test_without_a_pin_nothing_is_sent_and_check_shows_the_offered_key(
    sshd: SshServer, directory: Path
) -> None:
    channel = channel_for(sshd, directory, host_key=None)
    steps = channel.check()
    assert [(s.name, s.ok) for s in steps] == [("connect", True), ("host key", False)]
    assert sshd.host_key in steps[-1].detail
    assert fingerprint(parse_public_key(sshd.host_key)[1]) in steps[-1].detail
    with pytest.raises(ChannelFailed, match="no host key is pinned"):
        channel.write_file(people(3))
    assert os.listdir(directory) == []


def test_a_key_the_server_does_not_know_fails_authentication(
    sshd: SshServer, directory: Path
) -> None:
    channel = channel_for(sshd, directory, secrets={"private_key": generate_private_key()})
    steps = channel.check()
    assert [(s.name, s.ok) for s in steps] == [
        ("connect", True),
        ("host key", True),
        ("authenticate", False),
    ]
    assert "refused the key SHA256:" in steps[-1].detail
    assert sshd.username in steps[-1].detail


def test_a_missing_directory_fails_open_directory(sshd: SshServer, directory: Path) -> None:
    channel = channel_for(sshd, directory / "missing")
    steps = channel.check()
    assert [(s.name, s.ok) for s in steps][-2:] == [
        ("authenticate", True),
        ("open directory", False),
    ]
    assert str(directory / "missing") in steps[-1].detail
    with pytest.raises(ChannelFailed, match="open directory"):
        channel.write_file(people(1))


def test_check_walks_every_step_and_leaves_no_probe(sshd: SshServer, directory: Path) -> None:
    steps = channel_for(sshd, directory).check()
    assert [(s.name, s.ok) for s in steps] == [
        ("connect", True),
        ("host key", True),
        ("authenticate", True),
        ("open directory", True),
        ("write a test file", True),
    ]
    assert os.listdir(directory) == []


def test_the_generated_key_works_once_authorised(sshd: SshServer, directory: Path) -> None:
    secrets, shown_once = KIND.complete_secrets({})
    assert shown_once == {}
    public = KIND.public_details({"host_key": sshd.host_key}, secrets)
    assert public["public_key"].startswith("ssh-ed25519 AAAA")
    assert public["public_key"].endswith(" carebase")
    assert public["fingerprint"].startswith("SHA256:")
    assert public["host_key_fingerprint"] == fingerprint(parse_public_key(sshd.host_key)[1])
    assert "private_key" not in public
    channel = channel_for(sshd, directory, secrets=secrets)
    assert channel.check()[-1].name == "authenticate"
    sshd.authorize(public["public_key"])
    assert all(step.ok for step in channel.check())
    channel.write_file(people(2))
    assert len(os.listdir(directory)) == 1


def test_private_addresses_are_refused_unless_allowed(sshd: SshServer, directory: Path) -> None:
    steps = channel_for(sshd, directory, allow_private=False).check()
    assert [(s.name, s.ok) for s in steps] == [("connect", False)]
    assert "non-public address (127.0.0.1)" in steps[0].detail


def test_a_closed_port_fails_connect_with_a_retry(sshd: SshServer, directory: Path) -> None:
    channel = channel_for(sshd, directory, port=free_port())
    steps = channel.check()
    assert [(s.name, s.ok) for s in steps] == [("connect", False)]
    assert "cannot connect to 127.0.0.1" in steps[0].detail
    with pytest.raises(ChannelFailed) as failed:
        channel.write_file(people(1))
    assert failed.value.retry_after is not None
