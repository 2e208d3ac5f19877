"""What a record type is: one declaration from which ingestion, storage, the dataset API,
OpenAPI, import, history and the attribute families all take what they need."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

# What the pipeline does with a valid record of the kind:
# - ticket / event: resolve its link, store by natural key (newest action_at wins);
# - customer: resolve its link, store by that link (last content wins);
# - entity: store by natural key, on no profile (last content wins);
# - forget: forget the profile owning the link and suppress the link;
# - unify: resolve all its links together into one profile;
# - mention: resolve its link (when it has one), then hand it to the agent inbox
#   (`inbox.intake.receive`), which keeps the first one received.
Kind = Literal["ticket", "event", "customer", "entity", "forget", "unify", "mention"]
StorageRule = Literal["newest_wins", "last_content_wins", "first_wins", "none"]
Family = Literal["support", "commerce", "engagement", "customer"]
FAMILIES: tuple[Family, ...] = ("support", "commerce", "engagement", "customer")
Problem = dict[str, str]

_RULES: dict[Kind, StorageRule] = {
    "ticket": "newest_wins",
    "event": "newest_wins",
    "customer": "last_content_wins",
    "entity": "last_content_wins",
    "forget": "none",
    "unify": "none",
    "mention": "first_wins",
}
_LINKED: frozenset[Kind] = frozenset({"ticket", "event", "customer", "unify", "mention"})


@dataclass(slots=True)
class Parsed:
    """A valid record with what storage needs pulled out.

    `key` is the natural key (None for customer records, keyed by their link, and for
    forget/unify); `links` are the raw link objects, each normalised into one group;
    `columns` are a ticket's typed columns (None for Lexer types, stored as `record`).
    """

    record: dict[str, Any]
    key: str | None
    action_at: datetime | None
    links: list[dict[str, Any]]
    content_hash: str
    columns: dict[str, Any] | None = None


Parser = Callable[[Any, bool], "Parsed | list[Problem]"]
HistoryLine = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True, slots=True)
class RecordType:
    """One record type, declared once.

    `parse(raw, may_contain_nul)` validates one decoded record; `schema()` is its JSON Schema
    (what CSV columns are typed by; None when the type has no published schema);
    `openapi()` gives (batch body schema, component schemas); `history_line(row)` is the
    one-line summary of a stored row in a profile's history (None: not in history).
    """

    name: str
    summary: str
    kind: Kind
    parse: Parser
    openapi: Callable[[], tuple[dict[str, Any], dict[str, Any]]]
    schema: Callable[[], dict[str, Any] | None]
    id_field: str | None = None
    timestamp_field: str | None = None
    feeds: tuple[Family, ...] = ()
    history_line: HistoryLine | None = None
    operation_id: str = ""
    link_field: str = "link"

    @property
    def storage(self) -> StorageRule:
        """How a re-sent record with the same natural key is stored."""
        return _RULES[self.kind]

    @property
    def linked(self) -> bool:
        """Whether its records carry links resolved to a profile."""
        return self.kind in _LINKED

    @property
    def operation(self) -> str:
        """The OpenAPI operationId of its ingestion route."""
        camel = "".join(part.title() for part in self.name.split("_"))
        return self.operation_id or f"ingest{camel}"
