"""Whatever a client sends, the ingestion endpoint answers 2xx or a clear 4xx, never 500."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.helpers import REFERENCE_EVENT, auth, create_dataset, ticket


def _deep(levels: int) -> object:
    value: object = "bottom"
    for _ in range(levels):
        value = {"x": value}
    return value


VALID = orjson.dumps([REFERENCE_EVENT])
HOSTILE_BODIES: dict[str, bytes] = {
    "empty": b"",
    "truncated": VALID[: len(VALID) // 2],
    "trailing garbage": VALID + b"]]",
    "not utf-8": b"[\xff\xfe]",
    "bare null": b"null",
    "number": b"42",
    "object": orjson.dumps(REFERENCE_EVENT),
    "array of nulls": b"[null, null]",
    "array of arrays": b"[[1], []]",
    "nested 2000 deep": b"[" * 2000 + b"]" * 2000,
    "deep custom field": orjson.dumps([ticket("deep", custom_fields=_deep(200))]),
    "huge string": orjson.dumps([ticket("huge", description="x" * 2_000_000)]),
    "huge ticket id": orjson.dumps([ticket("i" * 10_000)]),
    "nul in value": orjson.dumps([ticket("nul", title="a\x00b")]),
    "nul in key": orjson.dumps([ticket("nulkey", **{"a\x00": 1})]),
    "nul in custom field": orjson.dumps([ticket("nulc", custom_fields={"k": ["\x00"]})]),
    "unicode": orjson.dumps([ticket("ü🎫", title="Ümläut ✓ 🚀", tags=["日本語", "emoji 🎉"])]),
    "lone surrogate escape": b'[{"ticket_id": "\\ud800", "action_at": "2024-01-01"}]',
    "wrong types": orjson.dumps(
        [
            {
                "ticket_id": {"a": 1},
                "action_at": 12345,
                "link": "a@b.co",
                "timeline": [],
                "tags": {"a": 1},
                "agents": 7,
                "satisfaction_score": {"x": 1},
                "channel": "email",
            }
        ]
    ),
    "nulls everywhere": orjson.dumps(
        [dict.fromkeys(REFERENCE_EVENT), ticket("n", title=None, tags=None, channel=None)]
    ),
    "booleans as ids": orjson.dumps([ticket(True), ticket("b", link={"email": True})]),  # type: ignore[arg-type]
    "negative and huge minutes": orjson.dumps(
        [ticket("m", timeline={"created_at": "2024-01-01", "duration": -5, "reply_time": 1e308})]
    ),
    "impossible dates": orjson.dumps(
        [ticket("d", action_at="2024-02-30T25:61:00Z"), ticket("e", action_at="0000-00-00")]
    ),
    "year 9999 and far offsets": orjson.dumps(
        [ticket("y", action_at="9999-12-31T23:59:59-23:59"), ticket("z", action_at="1-01-01")]
    ),
    "huge number": b'[{"ticket_id": 1' + b"0" * 400 + b', "action_at": "2024-01-01"}]',
    "duplicate ticket ids": orjson.dumps([ticket("dup"), ticket("dup"), ticket("dup")]),
    "duplicate keys": b'[{"ticket_id": "k", "ticket_id": "k2", "action_at": "2024-01-01T00:00:00Z",'
    b' "link": {"email": "a@b.co"}, "timeline": {"created_at": "2024-01-01"}}]',
    "1001 events": orjson.dumps([ticket(str(i)) for i in range(1001)]),
    "bad mobile and email": orjson.dumps(
        [
            ticket("p", link={"email": "a@@b", "mobile": "+" + "9" * 60}),
            ticket("q", link={"mobile": "✓"}),
        ]
    ),
    "extra link keys": orjson.dumps([ticket("x", link={"email": "a@b.co", "twitter": "@a"})]),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_never_a_500(client: TestClient, admin_token: str, name: str) -> None:
    dataset_id = create_dataset(client, admin_token)
    response = client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket",
        content=HOSTILE_BODIES[name],
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert set(body["error"]) == {"code", "message", "details"}
    else:
        assert (
            body["received"]
            == body["created"] + body["updated"] + body["unchanged"] + body["rejected"]
        )
    # The server is still healthy and the dataset still readable afterwards.
    assert client.get(f"/v1/datasets/{dataset_id}", headers=auth(admin_token)).status_code == 200
