"""What the inbox pages share: the stylesheet's state colours, the SLA timers in words, the
query-string filters read leniently (an empty select is "any"; anything else wrong is a 422
naming the parameter), the outcome of an action as a toast or an inline refusal, and the
mention page's Survey section as first shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import ValidationFailed
from carebase.inbox import forms
from carebase.inbox.workflow import CLOSED_STATES, LABELS, STATES
from carebase.models import Mention

# One colour per state kind (never alone: the label is always shown too).
STATE_KIND = {
    "new": "new",
    "assigned": "busy",
    "in_progress": "busy",
    "responded": "ok",
    "awaiting_approval": "warn",
    **dict.fromkeys(CLOSED_STATES, "muted"),
}


def state_label(state: str) -> str:
    """A state's words."""
    return LABELS.get(state, state)


@dataclass(frozen=True)
class Timer:
    """One SLA clock of a mention, as the page shows it."""

    label: str
    due_at: datetime | None
    # Seconds left (negative: overdue); None when the clock is stopped or not started.
    remaining: float | None
    breached: bool
    met: bool


def parse_int(name: str, raw: str | None) -> int | None:
    """An optional whole number from a query string or form ('' is none)."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise ValidationFailed.on(name, "must be a whole number")
    return int(text)


def parse_choice(name: str, raw: str | None, choices: tuple[str, ...]) -> str | None:
    """An optional value that must be one of `choices` ('' is none)."""
    text = (raw or "").strip()
    if not text:
        return None
    if text not in choices:
        raise ValidationFailed.on(name, f"must be one of {', '.join(choices)}")
    return text


TABS: tuple[str, ...] = ("new", "mine", "all", "follow_up", *STATES)


def author_of(mention: Mention) -> str:
    """Who wrote it, as agents know them."""
    return (
        mention.author_fullname
        or (f"@{mention.author_username}" if mention.author_username else None)
        or "Unknown sender"
    )


def excerpt(text: str, length: int = 140) -> str:
    """The start of a message on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "\u2026"


def survey_offer(session: Session, mention: Mention) -> dict[str, Any]:
    """What the mention page's Survey section shows before anything is pressed."""
    live, chosen = forms.survey_choices(session)
    return {
        "case_id": mention.case_id,
        "forms": live,
        "chosen": chosen,
        "link": None,
        "said": None,
        "error": None,
        "renewable": False,
    }
