"""Scopes a token may hold: `admin`, `ingest`, `ingest:<dataset_id>`, `profiles:read`, …"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ADMIN = "admin"
INGEST = "ingest"
PROFILES_READ = "profiles:read"
ACTIVITY_READ = "activity:read"
# Writing notes on profiles on behalf of a user (an integration posting agents' notes).
NOTES_WRITE = "notes:write"
# Reading segments, their members and the event search; counting a definition (preview).
SEGMENTS_READ = "segments:read"
# Saving, changing, deleting and refreshing segments.
SEGMENTS_WRITE = "segments:write"
# Running read-only SQL over customer_360 and the event views, and saved queries.
QUERY_RUN = "query:run"
# Saving, changing and deleting named queries.
QUERY_WRITE = "query:write"
# Reading destinations, orchestrations, their runs and per-record results.
ACTIVATION_READ = "activation:read"
# Creating, changing, deleting and testing destinations and orchestrations; starting,
# cancelling and retrying runs.
ACTIVATION_WRITE = "activation:write"
# Reading the inbox: mentions, their events, responses, cases, classifications, rules,
# policies, templates, forms and survey answers.
INBOX_READ = "inbox:read"
# Working the inbox (claim, assign, state, classify, reply, approve) and configuring it
# (queues, rules, classifications, policies, business hours, templates, forms).
INBOX_WRITE = "inbox:write"

KNOWN_SCOPES: tuple[str, ...] = (
    ADMIN,
    INGEST,
    PROFILES_READ,
    ACTIVITY_READ,
    NOTES_WRITE,
    SEGMENTS_READ,
    SEGMENTS_WRITE,
    QUERY_RUN,
    QUERY_WRITE,
    ACTIVATION_READ,
    ACTIVATION_WRITE,
    INBOX_READ,
    INBOX_WRITE,
)
# Scopes that can be narrowed to one resource, written `<scope>:<resource id>`.
NARROWABLE_SCOPES: frozenset[str] = frozenset({INGEST})
_RESOURCE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Scope:
    """A granted permission, optionally limited to one resource (a dataset)."""

    name: str
    resource: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        """Read a scope string; raise ValueError naming what is wrong."""
        value = text.strip()
        if value in KNOWN_SCOPES:
            return cls(value)
        base, _, resource = value.partition(":")
        if base in NARROWABLE_SCOPES and resource:
            if not _RESOURCE_ID.match(resource):
                raise ValueError(f"scope {text!r}: the resource id has characters not allowed")
            return cls(base, resource)
        allowed = ", ".join([*KNOWN_SCOPES, *(f"{s}:<dataset_id>" for s in NARROWABLE_SCOPES)])
        raise ValueError(f"unknown scope {text!r}; known scopes: {allowed}")

    def __str__(self) -> str:
        return self.name if self.resource is None else f"{self.name}:{self.resource}"

    def grants(self, required: str, resource: str | None = None) -> bool:
        """True when holding this scope allows an operation needing `required` on `resource`."""
        if self.name == ADMIN:
            return True
        if self.name != required:
            return False
        return self.resource is None or self.resource == resource


def parse_scopes(texts: Iterable[str]) -> list[Scope]:
    """Parse, de-duplicate and order scopes; raise ValueError on an unknown one."""
    scopes = {Scope.parse(text) for text in texts}
    if not scopes:
        raise ValueError("a token needs at least one scope")
    return sorted(scopes, key=str)


def any_grants(held: Iterable[Scope], required: str, resource: str | None = None) -> bool:
    """True when one of `held` allows the operation."""
    return any(scope.grants(required, resource) for scope in held)
