"""Engagement attributes, folded from email and SMS events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase import recordtypes
from carebase.attributes.commerce import add, later
from carebase.attributes.family import Family
from carebase.models import EngagementAttributes
from carebase.records import lexer as lexer_records

ENGAGEMENT_TYPES = recordtypes.types_feeding("engagement")
LAST_AT = {
    "email_send": "last_email_send_at",
    "email_open": "last_email_open_at",
    "email_click": "last_email_click_at",
    "email_bounce": "last_email_bounce_at",
    "sms_send": "last_sms_send_at",
    "sms_click": "last_sms_click_at",
}


@dataclass(slots=True)
class EngagementState:
    """Everything engagement attributes are computed from."""

    last_email_send_at: datetime | None = None
    last_email_open_at: datetime | None = None
    last_email_click_at: datetime | None = None
    last_email_bounce_at: datetime | None = None
    last_sms_send_at: datetime | None = None
    last_sms_click_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    subscriptions: dict[str, Any] = field(default_factory=dict)

    def fold(self, event: Mapping[str, Any]) -> None:
        """Account for one email or SMS event."""
        record_type, record, action_at = event["record_type"], event["record"], event["action_at"]
        add(self.counts, record_type, 1)
        column = LAST_AT.get(record_type)
        if column is not None:
            setattr(self, column, later(getattr(self, column), action_at))
        if record_type.endswith("_subscribe"):
            channel = record_type.split("_", 1)[0]
            listed = record.get("list") if isinstance(record.get("list"), dict) else {}
            list_id = listed.get("id")
            key = f"{channel}:{list_id or ''}"
            stamp = [action_at.isoformat(), event["event_key"]]
            known = self.subscriptions.get(key)
            if known is None or stamp > known["order"]:
                self.subscriptions[key] = {
                    "channel": channel,
                    "list_id": list_id,
                    "list_name": listed.get("name"),
                    "status": record["status"],
                    "changed_at": action_at.isoformat(),
                    "order": stamp,
                }

    def row(self, now: datetime) -> dict[str, Any]:
        """The stored row."""
        values = {name: getattr(self, name) for name in self.__slots__}
        return values | {"computed_at": now}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EngagementState:
        """The state a stored row holds."""
        return cls(**{name: row[name] for name in cls.__slots__})


class EngagementFamily(Family[EngagementState]):
    """Email and SMS activity and subscriptions."""

    name = "engagement"
    record_types = ENGAGEMENT_TYPES
    model = EngagementAttributes

    def empty_state(self) -> EngagementState:
        """No email or SMS events."""
        return EngagementState()

    def state_from_row(self, row: Mapping[str, Any]) -> EngagementState:
        """The state a stored row holds."""
        return EngagementState.from_row(row)

    def fold(self, state: EngagementState, record: Mapping[str, Any]) -> None:
        """Fold one email or SMS event."""
        state.fold(record)

    def row(self, state: EngagementState, now: datetime) -> dict[str, Any]:
        """The stored row."""
        return state.row(now)

    def records_of(self, session: Session, profile_ids: set[str]) -> Iterable[Mapping[str, Any]]:
        """Every email and SMS event of the profiles (folding is order-independent)."""
        return lexer_records.events_of(session, profile_ids, self.record_types)


def subscriptions(stored: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored subscriptions as the API lists them: by channel and list, without the
    ordering stamp."""
    return [{k: v for k, v in entry.items() if k != "order"} for _, entry in sorted(stored.items())]
