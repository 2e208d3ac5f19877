"""API shapes of queues, rules and ignored senders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Item = Annotated[str, StringConstraints(min_length=1, max_length=200)]
BigId = Annotated[int, Field(ge=1, le=2**63 - 1)]
RuleState = Literal["redirected", "irrelevant", "duplicate", "closed", "no_response_required"]
RedactKind = Literal["cards", "emails", "phones"]


class QueueOut(BaseModel):
    """A queue."""

    id: str
    name: str
    description: str
    sla_policy_id: str | None
    is_default: bool
    archived: bool
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class QueueCreate(BaseModel):
    """A new queue."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    sla_policy_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    is_default: bool = Field(False, description="Make it the queue mentions naming none land in.")


class QueueUpdate(BaseModel):
    """Changes to a queue (fields left out stay)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    sla_policy_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    clear_sla_policy: bool = Field(False, description="Measure against the default policy.")
    is_default: Literal[True] | None = Field(None, description="Make it the default queue.")


class RuleConditions(BaseModel):
    """When a rule runs: every condition given must match."""

    model_config = ConfigDict(extra="forbid")

    terms: list[Item] = Field(
        default_factory=list,
        max_length=200,
        description="Any of these words or phrases in the text (case-insensitive, whole words).",
    )
    source_types: list[Item] = Field(
        default_factory=list, max_length=200, description="The source type is one of these."
    )
    authors: list[Item] = Field(
        default_factory=list,
        max_length=200,
        description="The author (key, handle with or without @, or full name) is one of these.",
    )


class RuleAssign(BaseModel):
    """Assign to one user, or to a group by capacity (exactly one)."""

    model_config = ConfigDict(extra="forbid")

    user_id: BigId | None = None
    group_id: BigId | None = None


class RuleActions(BaseModel):
    """What a rule does to a matching mention."""

    model_config = ConfigDict(extra="forbid")

    classify: list[BigId] = Field(default_factory=list, max_length=50)
    state: RuleState | None = None
    assign: RuleAssign | None = None
    redact: list[RedactKind] = Field(
        default_factory=list, description="Removed permanently before the mention is stored."
    )

    def as_dict(self) -> dict[str, object]:
        """The stored form (an assign with only its one target)."""
        assign = self.assign.model_dump(exclude_none=True) if self.assign is not None else None
        return {
            "classify": self.classify,
            "state": self.state,
            "assign": assign,
            "redact": list(self.redact),
        }


class RuleOut(BaseModel):
    """A rule."""

    id: str
    queue_id: str
    name: str
    position: int
    enabled: bool
    stop: bool
    conditions: RuleConditions
    actions: RuleActions
    created_at: datetime
    updated_at: datetime


class RuleCreate(BaseModel):
    """A new rule, last in its queue unless `position` says where (0 first)."""

    model_config = ConfigDict(extra="forbid")

    queue_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    name: Name
    conditions: RuleConditions
    actions: RuleActions
    enabled: bool = True
    stop: bool = Field(False, description="Run no later rule once this one matched.")
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class RuleUpdate(BaseModel):
    """Changes to a rule (fields left out stay)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    conditions: RuleConditions | None = None
    actions: RuleActions | None = None
    enabled: bool | None = None
    stop: bool | None = None


class RuleOrder(BaseModel):
    """Every rule of a queue, in the order they should run."""

    model_config = ConfigDict(extra="forbid")

    queue_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    rule_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        max_length=1000
    )


class RuleList(BaseModel):
    """Rules in run order."""

    items: list[RuleOut]


class IgnoredOut(BaseModel):
    """An ignored sender."""

    id: str
    pattern: str
    comment: str
    created_at: datetime


class IgnoredCreate(BaseModel):
    """A sender to ignore: an author key, handle or email, `*` matching any text."""

    model_config = ConfigDict(extra="forbid")

    pattern: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


class IgnoredUpdate(BaseModel):
    """Changes to an ignored sender."""

    model_config = ConfigDict(extra="forbid")

    pattern: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    comment: Annotated[str, StringConstraints(max_length=2000)] | None = None
