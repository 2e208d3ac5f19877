"""Undoing a merge: through the API on both engines, and the pure split core directly."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebase.identity.links import Link
from carebase.identity.undo import RecordLinks, split
from tests.conftest import FakeClock
from tests.helpers import auth, create_dataset, ticket

A, B, C = "ann@undo.test", "bea@undo.test", "cat@undo.test"
MOBILE = "+61404111222"


def _post(client: TestClient, token: str, dataset_id: str, *events: dict[str, Any]) -> Any:
    response = client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket", json=list(events), headers=auth(token)
    )
    assert response.status_code == 200, response.text
    return response.json()


def _profile(client: TestClient, token: str, email: str) -> Any:
    response = client.get(f"/v1/profiles/by/email/{email}?tickets=20", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def _ticket_ids(profile: dict[str, Any]) -> list[str]:
    return sorted(item["ticket_id"] for item in profile["tickets"])


def test_undo_gives_each_profile_back_its_own_links_records_and_attributes(
    client: TestClient, admin_token: str, clock: FakeClock
) -> None:
    dataset_id = create_dataset(client, admin_token)
    _post(client, admin_token, dataset_id, ticket("t1", link={"email": A}))
    clock.advance(60)
    _post(client, admin_token, dataset_id, ticket("t2", link={"email": B, "mobile": MOBILE}))
    clock.advance(60)
    merged = _post(
        client, admin_token, dataset_id, ticket("t3", link={"email": A, "mobile": MOBILE})
    )
    assert len(merged["merges"]) == 1
    clock.advance(60)
    # After the merge: a ticket on the merged side's mobile alone, and one bringing a new email
    # alongside the merged side's email.
    _post(
        client,
        admin_token,
        dataset_id,
        ticket("t4", link={"mobile": MOBILE}),
        ticket("t5", link={"email": B}),
        ticket("t6", link={"email": C, "mobile": MOBILE}),
    )
    survivor = _profile(client, admin_token, A)
    assert _ticket_ids(survivor) == ["t1", "t2", "t3", "t4", "t5", "t6"]
    history = client.get(f"/v1/profiles/{survivor['id']}/merges", headers=auth(admin_token))
    merge = history.json()["merges"][0]
    restored_id = merge["merged_id"]

    clock.advance(60)
    response = client.post(
        f"/v1/profiles/{survivor['id']}/merges/{merge['id']}/undo", headers=auth(admin_token)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["restored_id"] == restored_id
    assert body["survivor_id"] == survivor["id"]
    assert body["merge"]["undone_at"] is not None

    kept, back = _profile(client, admin_token, A), _profile(client, admin_token, B)
    assert back["id"] == restored_id
    assert "resolved_from" not in back or back["resolved_from"] is None
    # The bridge (t3: A and the mobile) stays; the mobile's and B's own tickets go back, and
    # the email C that joined after the merge travelled only with the mobile: it goes too.
    assert _ticket_ids(kept) == ["t1", "t3"]
    assert _ticket_ids(back) == ["t2", "t4", "t5", "t6"]
    assert {link["value"] for link in kept["links"]} == {A}
    assert {link["value"] for link in back["links"]} == {B, C, MOBILE}
    assert kept["attributes"]["ticket_count"] == 2
    assert back["attributes"]["ticket_count"] == 4
    # Both histories explain it.
    for profile_id in (survivor["id"], restored_id):
        merges = client.get(f"/v1/profiles/{profile_id}/merges", headers=auth(admin_token))
        assert [m["undone_at"] is not None for m in merges.json()["merges"]] == [True]

    # The pair stays apart: a record bridging them again is stopped and reported.
    bridge = _post(
        client, admin_token, dataset_id, ticket("t9", link={"email": B, "mobile": MOBILE})
    )
    assert bridge["merges"] == []
    rebridge = _post(
        client, admin_token, dataset_id, ticket("t10", link={"email": A, "mobile": MOBILE})
    )
    assert rebridge["merges"] == []
    assert [w["reason"] for w in rebridge["warnings"]] == ["merge_blocked"]
    assert _profile(client, admin_token, A)["id"] != _profile(client, admin_token, B)["id"]

    # Undoing twice, or a merge that is not there, is a clear 4xx.
    twice = client.post(
        f"/v1/profiles/{survivor['id']}/merges/{merge['id']}/undo", headers=auth(admin_token)
    )
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "conflict"
    missing = client.post(
        f"/v1/profiles/{survivor['id']}/merges/mrg_nope/undo", headers=auth(admin_token)
    )
    assert missing.status_code == 404


def test_undo_needs_admin(client: TestClient, admin_token: str, database: Any) -> None:
    from tests.conftest import make_token

    reader = make_token(database, "profiles:read")
    response = client.post("/v1/profiles/prf_x/merges/mrg_x/undo", headers=auth(reader))
    assert response.status_code == 403


def _link(value: str) -> Link:
    return Link("email", value)


@pytest.mark.parametrize(
    ("record_links", "expected_back"),
    [
        ({"r": ["m1"]}, {"r"}),  # only the restored side's link: back
        ({"r": ["s1"]}, set()),  # only the survivor's: stays
        ({"r": ["m1", "s1"]}, set()),  # the bridge: stays
        ({"r": ["m1", "n1"], "q": ["n1"]}, {"r", "q"}),  # a later link follows the restored side
        ({"r": ["s1", "n1"], "q": ["n1"]}, set()),  # a later link with the survivor stays
        ({"r": ["m1", "n1"], "p": ["s1", "n1"], "q": ["n1"]}, set()),  # seen on both: stays
        ({"q": ["n1"]}, set()),  # a later link with no evidence stays
    ],
)
def test_split_core(record_links: dict[str, list[str]], expected_back: set[str]) -> None:
    records = [
        RecordLinks("tickets", number, frozenset(_link(v) for v in values))
        for number, values in enumerate(record_links.values())
    ]
    names = list(record_links)
    decided = split(
        restored={_link("m1")}, survivor={_link("s1")}, later={_link("n1")}, records=records
    )
    assert {names[record.pk] for record in decided.records} == expected_back
    assert _link("m1") in decided.links
    assert _link("s1") not in decided.links
