"""The list's bulk action bar: one action (claim, assign, change state, classify) on the
checked mentions, each in its own savepoint so one refused mention never blocks the
others; the page then lists what was done and, for each refusal, the reason in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fastapi import Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import ValidationFailed
from carebase.inbox.bulk import BulkAction, bulk
from carebase.inbox.workflow import STATES, Actor
from carebase.web.actions import sentence, write
from carebase.web.forms import Form
from carebase.web.pages.inbox_shared import parse_choice, parse_int

BULK_ACTIONS: tuple[tuple[str, str], ...] = (
    ("claim", "Claim"),
    ("assign", "Assign to"),
    ("state", "Change state to"),
    ("classify", "Classify as"),
)
MAX_SELECTED = 100


class BulkForm(BaseModel):
    """The bar's fields and the checked mentions."""

    ids: list[str] = Field(default_factory=list, max_length=MAX_SELECTED)
    action: str = Field(default="", max_length=20)
    assign_to: str = Field(default="", max_length=40)
    state: str = Field(default="", max_length=30)
    classification_id: str = Field(default="", max_length=20)


@dataclass
class BulkOutcome:
    """What a bulk action did: the mentions changed and each refusal with its reason."""

    action: str
    changed: int = 0
    results: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None

    @property
    def done(self) -> bool:
        """Whether it ran (some mentions may still have been refused)."""
        return self.error is None

    @property
    def summary(self) -> str:
        """The toast's words."""
        refused = len(self.results)
        words = f"Done for {self.changed} mention{'s' if self.changed != 1 else ''}."
        return words + (f" {refused} refused (listed below)." if refused else "")


def assignee_choice(raw: str) -> tuple[int | None, int | None]:
    """`user:12` or `group:3` as (user id, group id); a 422 otherwise."""
    kind, _, number = raw.partition(":")
    value = parse_int("assign_to", number)
    if kind not in {"user", "group"} or value is None:
        raise ValidationFailed.on("assign_to", "choose a person or a group")
    return (value, None) if kind == "user" else (None, value)


def _action(form: BulkForm) -> BulkAction:
    """The change to make to each mention (input checked once, before any is touched)."""
    if form.action == "claim":
        return BulkAction("claim")
    if form.action == "assign":
        to_user, to_group = assignee_choice(form.assign_to)
        return BulkAction("assign", user_id=to_user, group_id=to_group)
    if form.action == "state":
        target = parse_choice("state", form.state, STATES)
        if target is None:
            raise ValidationFailed.on("state", "choose a state")
        return BulkAction("state", state=target)
    if form.action == "classify":
        chosen = parse_int("classification_id", form.classification_id)
        if chosen is None:
            raise ValidationFailed.on("classification_id", "choose a classification")
        return BulkAction("classify", classification_id=chosen)
    raise ValidationFailed.on("action", "choose an action")


async def run_bulk(
    request: Request, form: Form[BulkForm], user_id: int, now: datetime
) -> BulkOutcome:
    """Run the bar's action on each checked mention; refusals are collected, not raised."""
    data = form.data
    action = form.values.get("action", "")
    if data is None:
        return BulkOutcome(action, error=next(iter(form.errors.values()), "Check the form."))
    if not data.ids:
        return BulkOutcome(action, error="Check at least one mention first.")
    try:
        change = _action(data)
    except ValidationFailed as invalid:
        details = invalid.details or [{}]
        return BulkOutcome(action, error=sentence(str(details[0].get("reason", invalid.message))))

    def work(session: Session) -> BulkOutcome:
        # The workflow's own bulk change: a savepoint per mention, locked in id order.
        outcome = BulkOutcome(action)
        for result in bulk(session, data.ids, change, Actor.user(user_id), now):
            if result.ok:
                outcome.changed += 1
            else:
                outcome.results.append((result.mention_id, sentence(result.reason or "")))
        return outcome

    return await write(request, work)
