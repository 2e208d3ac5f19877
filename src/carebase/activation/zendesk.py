"""Zendesk's Users API as a destination (CONTRACT STUB: the zendesk helper fills this in)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from carebase.activation.channel import Channel, ChannelContext, DestinationKind


class ZendeskConfig(BaseModel):
    """A Zendesk account: its URL, the agent whose API token is used, and the pace."""

    model_config = ConfigDict(extra="forbid")

    # https://acme.zendesk.com
    base_url: str = Field(min_length=8, max_length=500)
    email: str = Field(min_length=3, max_length=320)
    users_per_second: int = Field(default=100, ge=1, le=100)
    max_jobs_in_flight: int = Field(default=10, ge=1, le=29)


class ZendeskSecrets(BaseModel):
    """The agent's API token."""

    model_config = ConfigDict(extra="forbid")

    api_token: str = Field(min_length=1, max_length=500)


def open_channel(context: ChannelContext) -> Channel:
    """A channel to the account's Users API."""
    raise NotImplementedError


KIND = DestinationKind(
    name="zendesk",
    title="Zendesk Users API",
    config_model=ZendeskConfig,
    secrets_model=ZendeskSecrets,
    modes=("upsert", "update_only"),
    open=open_channel,
)
