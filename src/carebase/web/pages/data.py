"""Data: what a brand checks while it tests an integration. `/data` → `/data/datasets`
(each dataset's totals and its recent batches, newest first), `/data/datasets/{id}` (every
batch, paged) and `/data/logs/{log_id}` (one batch: its counts, then every rejection with
its field and reason, paged).

Agents and managers may both read these pages: an agent who sees a customer's purchase
missing is the one who asks "did it arrive?", and the logs hold no personal data (no record
key that may be personal is logged, so logs outlive a forget). Changing datasets stays with
the admin API for now.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from carebase.datasets import service as datasets
from carebase.datasets.schemas import LogOut
from carebase.http.deps import DbSession
from carebase.web.render import render
from carebase.web.routing import page_router
from carebase.web.session import SignedIn

router = page_router()

RECENT_BATCHES = 5
BATCHES_PAGE = 25
REJECTIONS_PAGE = 50
WARNINGS_SHOWN = 100


@router.get("/data")
async def data_home(_active: SignedIn) -> RedirectResponse:
    """The Data section starts at its datasets."""
    return RedirectResponse("/data/datasets", status_code=303)


def _type_label(record_type: str) -> str:
    """`customer_support_ticket` → `customer support ticket`."""
    return record_type.replace("_", " ")


@router.get("/data/datasets")
def datasets_page(request: Request, _active: SignedIn, session: DbSession) -> HTMLResponse:
    """Every dataset with its totals and its latest batches."""
    totals = datasets.received_and_rejected(session)
    shown: list[dict[str, Any]] = []
    for dataset in datasets.list_datasets(session):
        described = datasets.describe(session, dataset)
        received, rejected = totals.get(dataset.id, (0, 0))
        recent = datasets.log_page(session, dataset.id, limit=RECENT_BATCHES, cursor=None)
        shown.append(
            {
                "dataset": described,
                "type_label": _type_label(dataset.record_type),
                "received": received,
                "rejected": rejected,
                "recent": recent.items,
                "more": recent.next_cursor is not None,
                "last": described.last_ingest_at.isoformat() if described.last_ingest_at else None,
            }
        )
    # Most recently fed first (the one being tested is at the top), then never fed.
    shown.sort(key=lambda item: str(item["last"] or ""), reverse=True)
    return render(request, "pages/data_datasets.html", {"datasets": shown})


@router.get("/data/datasets/{dataset_id}")
def dataset_page(
    dataset_id: str,
    request: Request,
    _active: SignedIn,
    session: DbSession,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """One dataset's batches, newest first, a page at a time."""
    dataset = datasets.describe(session, datasets.get_dataset(session, dataset_id))
    received, rejected = datasets.received_and_rejected(session).get(dataset_id, (0, 0))
    page = datasets.log_page(session, dataset_id, limit=BATCHES_PAGE, cursor=cursor)
    following = (
        f"/data/datasets/{dataset_id}?{urlencode({'cursor': page.next_cursor})}"
        if page.next_cursor
        else None
    )
    return render(
        request,
        "pages/data_dataset.html",
        {
            "dataset": dataset,
            "type_label": _type_label(dataset.record_type),
            "received": received,
            "rejected": rejected,
            "batches": page.items,
            "next_page": following,
            "paged": cursor is not None,
        },
    )


def _rows(log: LogOut) -> list[dict[str, Any]]:
    """Every rejected record's problems, one row per field."""
    rows = []
    for rejection in log.rejections:
        problems = rejection.get("errors") or [{"field": None, "reason": None}]
        for problem in problems:
            rows.append(
                {
                    "index": rejection.get("index"),
                    "record_id": rejection.get("record_id") or rejection.get("ticket_id"),
                    "field": problem.get("field"),
                    "reason": problem.get("reason"),
                }
            )
    return rows


def _warning(warning: dict[str, Any]) -> dict[str, Any]:
    merge = warning.get("merge")
    if isinstance(merge, dict):
        return {
            "index": None,
            "field": None,
            "reason": "merged",
            "detail": f"Profile {merge.get('merged_id')} joined {merge.get('survivor_id')} "
            f"(rule: {str(merge.get('rule', '')).replace('_', ' ')}).",
        }
    return {
        "index": warning.get("index"),
        "field": warning.get("field"),
        "reason": warning.get("reason"),
        "detail": warning.get("detail"),
    }


@router.get("/data/logs/{log_id}")
def log_page(
    log_id: str,
    request: Request,
    _active: SignedIn,
    session: DbSession,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """One batch: what arrived, what was kept, and every rejection with its reason."""
    log = datasets.get_log(session, log_id)
    dataset = datasets.get_dataset(session, log.dataset_id)
    rows = _rows(log)
    pages = max(1, -(-len(rows) // REJECTIONS_PAGE))
    page = min(page, pages)
    start = (page - 1) * REJECTIONS_PAGE
    link = f"/data/logs/{log_id}?page="
    return render(
        request,
        "pages/data_log.html",
        {
            "log": log,
            "dataset": dataset,
            "rows": rows[start : start + REJECTIONS_PAGE],
            "row_count": len(rows),
            "first_row": start + 1,
            "page": page,
            "pages": pages,
            "previous_page": f"{link}{page - 1}" if page > 1 else None,
            "next_page": f"{link}{page + 1}" if page < pages else None,
            "warnings": [_warning(w) for w in log.warnings[:WARNINGS_SHOWN]],
            "warning_count": len(log.warnings),
        },
    )
