"""The NPS report types: nps_summary (invitations sent and answers received in the window,
by NPS category, and the NPS score) and nps_volume (the same per bucket)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from sqlalchemy.orm import Session

from carebase.activity import nps_repository as repository
from carebase.activity.registry import ReportQuery, report
from carebase.activity.timebuckets import slot_start
from carebase.errors import InvalidReport, NotFound
from carebase.inbox.surveys import nps_category
from carebase.kit.stats import ratio

SECTION = "NPS"
# The request's nps_category → the answers' category (inbox/surveys.py).
_CATEGORY = {"promoters": "promoter", "passives": "passive", "detractors": "detractor"}


def check_form(session: Session, query: ReportQuery) -> None:
    """The query's form exists (else 404) and is an NPS form (else 400 naming `form`)."""
    form = None if query.form is None else repository.get_form(session, query.form)
    if form is None:
        raise NotFound(f"No form with id {query.form!r}.")
    if not form.nps:
        raise InvalidReport.on("form", "is not an NPS form")


def summarise(sent: int, scores: Mapping[int, int], category: str) -> dict[str, Any]:
    """The nps_summary object from the invitations sent and the answers per score, keeping
    only the answers of `category` (all|promoters|passives|detractors)."""
    wanted = _CATEGORY.get(category)
    kept = {s: n for s, n in scores.items() if n and (wanted is None or nps_category(s) == wanted)}
    per = {"promoter": 0, "passive": 0, "detractor": 0}
    for score, n in kept.items():
        per[nps_category(score)] += n
    received = sum(kept.values())
    total = sum(score * n for score, n in kept.items())
    return {
        "total_sent": sent,
        "total_received": received,
        "total_promoters": per["promoter"],
        "total_passives": per["passive"],
        "total_detractors": per["detractor"],
        "nps_score": None
        if received == 0
        else 100 * (per["promoter"] - per["detractor"]) / received,
        "response_rate": ratio(received, sent),
        "average_score": None if received == 0 else total / received,
    }


@report("nps_summary", title="NPS summary", section=SECTION, needs_form=True)
def nps_summary(session: Session, query: ReportQuery) -> dict[str, Any]:
    """An NPS form's invitations sent and answers received in the window: promoters (9-10),
    passives (7-8), detractors (0-6), the NPS score 100·(P - D)/received, the response rate
    and the mean score."""
    check_form(session, query)
    sent = repository.sent_count(session, query)
    return summarise(sent, repository.score_counts(session, query), query.nps_category)


@report("nps_volume", title="NPS volume", section=SECTION, needs_form=True)
def nps_volume(session: Session, query: ReportQuery) -> list[dict[str, Any]]:
    """The nps_summary of each bucket, with the bucket's UTC start and epoch seconds."""
    check_form(session, query)
    window = query.window
    buckets = window.buckets()
    sent = [0] * len(buckets)
    scores: list[dict[int, int]] = [{} for _ in buckets]
    for slot, n in repository.sent_per_slot(session, query, window.utc_from, window.utc_to):
        index = window.index(slot_start(slot))
        if index is not None:
            sent[index] += n
    for slot, score, n in repository.scores_per_slot(
        session, query, window.utc_from, window.utc_to
    ):
        index = window.index(slot_start(slot))
        if index is not None:
            scores[index][score] = scores[index].get(score, 0) + n
    return [
        {
            "date": bucket.start.astimezone(UTC).isoformat(),
            "timestamp": int(bucket.start.timestamp()),
            "data": summarise(sent[i], scores[i], query.nps_category),
        }
        for i, bucket in enumerate(buckets)
    ]
