"""Customer (CRM) attributes, merged from a profile's customer records when they change.

Precedence: per field, the most recently changed record that gives the field a value wins;
a record that leaves a field out (or sends null) does not erase another record's value.
custom_fields merge key by key the same way. `loyalty` gathers the custom fields whose name
starts with "loyalty" (Lexer's own example: `loyalty_status`).

A customer record is keyed by its link, and a changed record replaces its earlier version,
whose values the merged state may hold; so a profile whose customer records change is
rebuilt from all of them (a handful per profile), never folded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase import recordtypes
from carebase.attributes import repository
from carebase.attributes.family import Family
from carebase.kit.searchkey import name_key
from carebase.models import CustomerAttributes

CUSTOMER_RECORD = "customer_record"
CRM_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "email_sha256",
    "mobile",
    "customer_id",
    "gender",
    "date_of_birth",
    "country",
    "state",
    "city",
    "postcode",
    "zip",
    "address_1",
    "address_2",
    "customer_type",
    "employee_flag",
)


@dataclass(slots=True)
class CustomerState:
    """The merged CRM fields of a profile."""

    fields: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(CRM_FIELDS))
    custom_fields: dict[str, Any] = field(default_factory=dict)
    record_count: int = 0


class CustomerFamily(Family[CustomerState]):
    """CRM fields from customer records."""

    name = "customer"
    record_types = recordtypes.types_feeding("customer")
    model = CustomerAttributes
    incremental = False

    def empty_state(self) -> CustomerState:
        """No customer records."""
        return CustomerState()

    def state_from_row(self, row: Mapping[str, Any]) -> CustomerState:
        """The state a stored row holds."""
        fields = {name: row[name] for name in CRM_FIELDS}
        if fields["employee_flag"] is not None:  # SQLite hands back 0 / 1
            fields["employee_flag"] = bool(fields["employee_flag"])
        return CustomerState(fields, dict(row["custom_fields"]), row["record_count"])

    def fold(self, state: CustomerState, record: Mapping[str, Any]) -> None:
        """Lay one customer record, more recently changed than those folded, over the state."""
        body = record["record"]
        state.record_count += 1
        state.fields.update({name: body[name] for name in CRM_FIELDS if body.get(name) is not None})
        extra = body.get("custom_fields")
        if isinstance(extra, dict):
            state.custom_fields.update({k: v for k, v in extra.items() if v is not None})

    def row(self, state: CustomerState, now: datetime) -> dict[str, Any]:
        """The stored row."""
        custom = state.custom_fields
        fields = state.fields
        return {
            **fields,
            "name_key": name_key(fields["first_name"], fields["last_name"]),
            "last_name_key": name_key(None, fields["last_name"]),
            "loyalty": {key: value for key, value in custom.items() if key.startswith("loyalty")},
            "custom_fields": custom,
            "record_count": state.record_count,
            "computed_at": now,
        }

    def records_of(self, session: Session, profile_ids: set[str]) -> Iterable[Mapping[str, Any]]:
        """The profiles' customer records, least recently changed first."""
        return repository.customer_records(session, profile_ids)
