"""One cursor pagination: the pure core, and every paged list walked page by page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carebase.errors import ValidationFailed
from carebase.kit import pagination
from tests.helpers import auth, create_dataset, ticket


def test_a_cursor_round_trips_its_keyset() -> None:
    at = datetime(2026, 11, 29, 8, 40, tzinfo=UTC)
    cursor = pagination.encode(at, "tickets", 42)
    assert pagination.decode(cursor, datetime, str, int) == (at, "tickets", 42)


@pytest.mark.parametrize(
    "cursor",
    ["", "not base64 !", pagination.encode("x"), pagination.encode(1, "a", 2), "W10"],
)
def test_a_cursor_this_api_did_not_give_is_a_422_naming_the_field(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        pagination.decode(cursor, datetime, str, int)
    assert caught.value.details == [{"field": "cursor", "reason": pagination.NOT_A_CURSOR}]


def test_split_gives_a_cursor_only_when_there_is_more() -> None:
    assert pagination.split([1, 2, 3], 2, str) == ([1, 2], "2")
    assert pagination.split([1, 2], 2, str) == ([1, 2], None)


def _walk(client: TestClient, token: str, path: str, limit: int) -> list[list[Any]]:
    pages, cursor = [], None
    while True:
        query = f"{path}{'&' if '?' in path else '?'}limit={limit}"
        response = client.get(query + (f"&cursor={cursor}" if cursor else ""), headers=auth(token))
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_every_paged_list_takes_cursor_and_answers_items(
    client: TestClient, admin_token: str
) -> None:
    dataset_id = create_dataset(client, admin_token)
    for number in range(5):
        client.post(
            f"/v1/datasets/{dataset_id}/customer_support_ticket",
            json=[ticket(f"p{number}", link={"email": f"page{number}@paging.test"})],
            headers=auth(admin_token),
        )
    profile = client.get(
        "/v1/profiles/by/email/page0@paging.test", headers=auth(admin_token)
    ).json()
    for number in range(3):
        client.delete(
            f"/v1/profiles/{profile['id']}" if number == 0 else "/v1/profiles/prf_none",
            headers=auth(admin_token),
        )
    logs = _walk(client, admin_token, f"/v1/datasets/{dataset_id}/logs", 2)
    assert [len(page) for page in logs] == [2, 2, 1]
    ids = [entry["id"] for page in logs for entry in page]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 5
    suppressions = _walk(client, admin_token, "/v1/suppressions", 1)
    assert sum(len(page) for page in suppressions) >= 3  # the email and its two hashes
    client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket",
        json=[ticket(f"h{n}", link={"email": "page1@paging.test"}) for n in range(3)],
        headers=auth(admin_token),
    )
    owner = client.get("/v1/profiles/by/email/page1@paging.test", headers=auth(admin_token))
    history = _walk(client, admin_token, f"/v1/profiles/{owner.json()['id']}/history", 2)
    assert [len(page) for page in history] == [2, 2]
    keys = [item["id"] for page in history for item in page]
    assert len(set(keys)) == 4


def test_the_old_parameter_names_and_keys_still_work(client: TestClient, admin_token: str) -> None:
    dataset_id = create_dataset(client, admin_token)
    for number in range(3):
        client.post(
            f"/v1/datasets/{dataset_id}/customer_support_ticket",
            json=[ticket(f"o{number}", link={"email": f"old{number}@paging.test"})],
            headers=auth(admin_token),
        )
    first = client.get(f"/v1/datasets/{dataset_id}/logs?limit=2", headers=auth(admin_token))
    body = first.json()
    assert body["logs"] == body["items"]
    legacy = client.get(
        f"/v1/datasets/{dataset_id}/logs?limit=2&before={body['next_cursor']}",
        headers=auth(admin_token),
    ).json()
    current = client.get(
        f"/v1/datasets/{dataset_id}/logs?limit=2&cursor={body['next_cursor']}",
        headers=auth(admin_token),
    ).json()
    assert legacy["items"] == current["items"]
    assert len(current["items"]) == 1


def test_a_forged_cursor_is_a_422_on_every_list(client: TestClient, admin_token: str) -> None:
    dataset_id = create_dataset(client, admin_token)
    response = client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket",
        json=[ticket("f1", link={"email": "forged@paging.test"})],
        headers=auth(admin_token),
    )
    assert response.status_code == 200
    profile = client.get("/v1/profiles/by/email/forged@paging.test", headers=auth(admin_token))
    for path in (f"/v1/profiles/{profile.json()['id']}/history", "/v1/jobs"):
        answer = client.get(f"{path}?cursor=nonsense", headers=auth(admin_token))
        assert answer.status_code == 422, path
        assert answer.json()["error"]["details"] == [
            {"field": "cursor", "reason": pagination.NOT_A_CURSOR}
        ]
