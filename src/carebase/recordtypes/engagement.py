"""Email and SMS events, feeding the engagement attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carebase.recordtypes.lexer import LexerFormat
from carebase.recordtypes.registry import HistoryLine, RecordType
from carebase.recordtypes.text import clip


def _line(verb: str) -> HistoryLine:
    def history_line(row: Mapping[str, Any]) -> str:
        """`Email opened: Spring sale → https://…` from a stored event row."""
        record = row["record"]
        text = verb
        if verb.endswith("subscription"):
            listed = (record.get("list") or {}).get("name")
            text += f": {record.get('status')}" + (f" ({listed})" if listed else "")
        elif record.get("subject"):
            text += f": {clip(record['subject'])}"
        elif record.get("campaign_id"):
            text += f": {clip(record['campaign_id'])}"
        clicked = record.get("clicked_link")
        if isinstance(clicked, dict) and clicked.get("url"):
            text += f" → {clip(clicked['url'])}"
        return text

    return history_line


def _engagement(
    name: str, verb: str, summary: str, files: tuple[str, ...], *, optional_id: bool = False
) -> RecordType:
    key_field = "email_id" if name.startswith("email_") else "sms_id"
    optional = (key_field,) if optional_id else ()
    form = LexerFormat(name, "event", key_field, files, optional)
    return RecordType(
        name=name,
        summary=summary,
        kind="event",
        parse=form.parse,
        openapi=form.openapi,
        schema=form.schema,
        id_field=key_field,
        timestamp_field="action_at",
        feeds=("engagement",),
        history_line=_line(verb),
    )


EMAIL_SEND = _engagement(
    "email_send",
    "Email sent",
    "An email sent; keyed by email_id.",
    ("email_send.jsonschema",),
    optional_id=True,
)
EMAIL_OPEN = _engagement(
    "email_open", "Email opened", "An email opened; keyed by email_id.", ("email_open.jsonschema",)
)
EMAIL_CLICK = _engagement(
    "email_click",
    "Email link clicked",
    "A link clicked in an email; keyed by email_id.",
    ("email_click.jsonschema",),
)
EMAIL_BOUNCE = _engagement(
    "email_bounce",
    "Email bounced",
    "An email bounced; keyed by email_id.",
    ("email_bounce.jsonschema",),
)
EMAIL_SUBSCRIBE = _engagement(
    "email_subscribe",
    "Email subscription",
    "An email subscription change; keyed by email_id.",
    ("email_subscribe.json", "email_subscribe.jsonschema"),
    optional_id=True,
)
SMS_SEND = _engagement(
    "sms_send", "SMS sent", "An SMS sent; keyed by sms_id.", ("sms_send.jsonschema",)
)
SMS_CLICK = _engagement(
    "sms_click",
    "SMS link clicked",
    "A link clicked in an SMS; keyed by sms_id.",
    ("sms_click.jsonschema",),
)
SMS_SUBSCRIBE = _engagement(
    "sms_subscribe",
    "SMS subscription",
    "An SMS subscription change; keyed by sms_id.",
    ("sms_subscribe.json", "sms_subscribe.jsonschema"),
)
