"""Reading a bulk job's results: every shape Zendesk documents or was seen to send."""

from __future__ import annotations

from typing import Any

import pytest

from carebase.activation.channel import Outcome
from carebase.activation.zendesk_jobs import PACE_MARGIN, READS, UserPace, job_outcomes


def job(
    status: str, results: Any, total: int | None = None, message: str | None = None
) -> dict[str, Any]:
    return {"id": "j1", "status": status, "results": results, "total": total, "message": message}


def test_results_map_by_index_when_they_carry_one_else_by_position() -> None:
    results = [
        {"id": 12, "index": 1, "status": "Updated", "external_id": "b"},
        {"id": 11, "index": 0, "status": "Created", "email": "a@b.test"},
    ]
    assert job_outcomes(job("completed", results), 2) == [
        Outcome(ok=True, action="created", remote_id="11"),
        Outcome(ok=True, action="updated", remote_id="12"),
    ]
    update_shape = [{"id": 7, "action": "update", "status": "Updated", "success": True}]
    assert job_outcomes(job("completed", update_shape), 1) == [
        Outcome(ok=True, action="updated", remote_id="7")
    ]


def test_a_failed_result_keeps_zendesks_error_and_details() -> None:
    results = [
        {"id": 1, "status": "Created"},
        {"id": 2, "status": "Failed", "error": "UserUpdateError", "details": "Email: x is taken"},
        {"index": 2, "error": "RecordInvalid", "details": "Name: is too short"},
    ]
    outcomes = job_outcomes(job("completed", results, total=3), None)
    assert [o.ok for o in outcomes] == [True, False, False]
    assert (outcomes[1].error_code, outcomes[1].message) == ("UserUpdateError", "Email: x is taken")
    assert outcomes[2].remote_id is None


def test_records_without_a_result_are_rejected_and_say_why() -> None:
    assert job_outcomes(job("completed", [{"id": 1, "status": "Created"}]), 2)[1] == Outcome(
        ok=False, error_code="no_result", message="Zendesk's job ended without a result for it"
    )
    assert (
        job_outcomes(job("failed", None, total=2), None)
        == [Outcome(ok=False, error_code="job_failed", message="Zendesk's job was failed")] * 2
    )
    killed = job_outcomes(job("killed", None, message="Killed by admin"), 1)
    assert killed == [Outcome(ok=False, error_code="job_killed", message="Killed by admin")]


def test_an_object_result_stands_for_every_record() -> None:
    assert (
        job_outcomes(job("completed", {"success": True}, total=2), None) == [Outcome(ok=True)] * 2
    )
    assert not job_outcomes(job("completed", {"success": False}), 1)[0].ok


def test_a_request_books_its_users_share_of_a_second() -> None:
    pace = UserPace(100, None, "destination:x")
    with pace.carrying(100):
        assert pace.reserve(1000.0) == 0.0
    with pace.carrying(100):
        # A 100-user request took the whole second (and the 2% margin kept under the limit).
        assert pace.reserve(1000.0) == pytest.approx(1.0 / PACE_MARGIN)
    # Reads go on their own budget: a poll is not held behind the bulk requests' slots.
    assert pace.reserve(1000.0) == 0.0
    assert pace.reserve(1000.0) == pytest.approx(READS.interval)
    with pace.carrying(100):
        assert pace.reserve(1000.0) == pytest.approx(2.0 / PACE_MARGIN)
    pace.hold(1030.0)
    assert pace.reserve(1000.0, max_wait=10.0) == 30.0  # not booked: further than allowed
    assert pace.reserve(1000.0) == 30.0
