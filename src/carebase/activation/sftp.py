"""An SFTP directory as a destination (CONTRACT STUB: the sftp helper fills this in)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carebase.activation.channel import Channel, ChannelContext, DestinationKind


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


class SftpSecrets(BaseModel):
    """The client's private key (OpenSSH format); generated (Ed25519) when not given."""

    model_config = ConfigDict(extra="forbid")

    private_key: str | None = Field(default=None, max_length=20000)


def open_channel(context: ChannelContext) -> Channel:
    """A channel to the SFTP server."""
    raise NotImplementedError


KIND = DestinationKind(
    name="sftp",
    title="SFTP",
    config_model=SftpConfig,
    secrets_model=SftpSecrets,
    modes=("upsert",),
    open=open_channel,
)
