"""Request and response bodies of the token admin API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from carebase.auth.scopes import KNOWN_SCOPES


class TokenCreate(BaseModel):
    """A token to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["zendesk-webhook"])
    scopes: list[str] = Field(
        min_length=1,
        max_length=50,
        description=f"Any of {', '.join(KNOWN_SCOPES)}, or ingest:<dataset_id>.",
        examples=[["ingest"]],
    )


class TokenOut(BaseModel):
    """A token as listed: never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    token_prefix: str = Field(description="First characters of the secret, to recognise it.")
    scopes: list[str]
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    """A new token, with its secret: shown this once and never again."""

    token: str = Field(description="The secret. Store it now; carebase keeps only its hash.")


class TokenList(BaseModel):
    """Tokens, oldest first."""

    tokens: list[TokenOut]
