"""The record-type registry: every list of types, and every per-type behaviour, comes from
`REGISTRY`. Adding a type is one module declaring its `RecordType` plus one entry below."""

from __future__ import annotations

from types import MappingProxyType

from carebase.recordtypes import (
    catalog,
    commerce,
    compliance,
    customers,
    engagement,
    mention,
    tickets,
)
from carebase.recordtypes.registry import Family, Parsed, RecordType

__all__ = ["REGISTRY", "Family", "Parsed", "RecordType", "get", "names", "types_feeding"]

# Explicit and ordered: the order is the dataset API's enum, the routes' and the docs'.
REGISTRY = MappingProxyType(
    {
        record_type.name: record_type
        for record_type in (
            tickets.TICKET,
            customers.CUSTOMER_RECORD,
            commerce.PURCHASE,
            commerce.RETURN,
            catalog.PRODUCT,
            catalog.CATEGORY,
            engagement.EMAIL_SEND,
            engagement.EMAIL_OPEN,
            engagement.EMAIL_CLICK,
            engagement.EMAIL_BOUNCE,
            engagement.EMAIL_SUBSCRIBE,
            engagement.SMS_SEND,
            engagement.SMS_CLICK,
            engagement.SMS_SUBSCRIBE,
            mention.MENTION,
            compliance.FORGET,
            compliance.UNIFY,
        )
    }
)


def get(name: str) -> RecordType:
    """One record type by name (KeyError when there is none)."""
    return REGISTRY[name]


def names() -> tuple[str, ...]:
    """Every record type's name, in registry order."""
    return tuple(REGISTRY)


def types_feeding(family: Family) -> tuple[str, ...]:
    """The record types whose records an attribute family is computed from."""
    return tuple(name for name, record_type in REGISTRY.items() if family in record_type.feeds)


def in_history() -> tuple[str, ...]:
    """The record types a profile's history shows, each with its one-line summary."""
    return tuple(name for name, t in REGISTRY.items() if t.history_line is not None)
