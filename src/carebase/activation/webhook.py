"""A webhook URL as a destination (CONTRACT STUB: the webhook helper fills this in)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from carebase.activation.channel import Channel, ChannelContext, DestinationKind


class WebhookConfig(BaseModel):
    """Where batches are posted, and how many records each carries."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    batch_size: int = Field(default=500, ge=1, le=10_000)


class WebhookSecrets(BaseModel):
    """The HMAC signing secret; generated (and shown once) when not given."""

    model_config = ConfigDict(extra="forbid")

    signing_secret: str | None = Field(default=None, min_length=16, max_length=500)


def open_channel(context: ChannelContext) -> Channel:
    """A channel to the webhook URL."""
    raise NotImplementedError


KIND = DestinationKind(
    name="webhook",
    title="Webhook",
    config_model=WebhookConfig,
    secrets_model=WebhookSecrets,
    modes=("upsert", "update_only"),
    open=open_channel,
)
