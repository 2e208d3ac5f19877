"""Whatever a client sends, the ingestion endpoint answers 2xx or a clear 4xx, never 500."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from carebase.jsonutil import MAX_VALUES_PER_REQUEST
from carebase.recordtypes.validation import MAX_VALUES
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


# Requests with a NUL character outside an ingestion batch: (method, url, JSON body or
# None, the field the 422 names). Before the edge guard, PostgreSQL answered most with 500.
NUL_REQUESTS: dict[str, tuple[str, str, object, str]] = {
    "profile path": ("GET", "/v1/profiles/%00", None, "path"),
    "profile by link": ("GET", "/v1/profiles/by/email/a%00b", None, "path"),
    "profile merges": ("GET", "/v1/profiles/p%00/merges", None, "path"),
    "undo merge": ("POST", "/v1/profiles/%00/merges/%00/undo", None, "path"),
    "dataset path": ("GET", "/v1/datasets/%00", None, "path"),
    "dataset logs": ("GET", "/v1/datasets/%00/logs", None, "path"),
    "ingest path": ("POST", "/v1/datasets/%00/customer_support_ticket", [REFERENCE_EVENT], "path"),
    "token path": ("GET", "/v1/tokens/%00", None, "path"),
    "revoke token": ("DELETE", "/v1/tokens/a%00", None, "path"),
    "connector path": ("GET", "/v1/connectors/%00", None, "path"),
    "delete connector": ("DELETE", "/v1/connectors/%00", None, "path"),
    "tokenless webhook": ("POST", "/v1/connectors/%00/webhook", {"ticket": 1}, "path"),
    "query value": ("GET", "/v1/datasets?cursor=%00", None, "query.cursor"),
    "query name": ("GET", "/v1/tokens?a%00=1", None, "query"),
    "deliveries status": ("GET", "/v1/connectors/c/deliveries?status=a%00", None, "query.status"),
    "token body": ("POST", "/v1/tokens", {"name": "a\x00", "scopes": ["admin"]}, "body.name"),
    "dataset body": ("POST", "/v1/datasets", {"name": "\x00"}, "body.name"),
    "connector body": (
        "POST",
        "/v1/connectors",
        {
            "kind": "zendesk",
            "name": "z",
            "domain": "acme",
            "dataset_id": "ds",
            "credentials": {"email": "a@b.co", "api_token": "t\x00"},
        },
        "body.credentials.api_token",
    ),
    "body key": ("POST", "/v1/datasets", {"name": "n", "a\x00": 1}, "body"),
}


@pytest.mark.parametrize("name", sorted(NUL_REQUESTS))
def test_a_nul_anywhere_is_a_422_naming_the_field(
    client: TestClient, admin_token: str, name: str
) -> None:
    method, url, body, field = NUL_REQUESTS[name]
    content = None if body is None else orjson.dumps(body)
    headers = {**auth(admin_token), "Content-Type": "application/json"}
    if "webhook" in url:
        headers = {"Content-Type": "application/json"}
    response = client.request(method, url, content=content, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [{"field": field, "reason": "contains a NUL character"}] or (
        field == "body" and error["details"][0]["field"] == "body"
    )
    assert "\\u0000" not in response.text
    assert "%00" not in response.text


def test_a_nul_in_a_header_value_is_a_422(client: TestClient, admin_token: str) -> None:
    response = client.get("/v1/datasets", headers={**auth(admin_token), "X-Request-Id": "a\x00b"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"] == [
        {"field": "header.x-request-id", "reason": "contains a NUL character"}
    ]


def test_a_record_with_too_many_values_is_rejected_alone(
    client: TestClient, admin_token: str
) -> None:
    dataset_id = create_dataset(client, admin_token)
    crowded = ticket("crowded", custom_fields={"k": [{}] * (MAX_VALUES + 1)})
    response = client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket",
        content=orjson.dumps([crowded, ticket("fine")]),
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    [problem] = body["rejections"][0]["errors"]
    # A custom field's own key may be personal data: the path names it as <key>.
    assert problem["field"].startswith("custom_fields.<key>[")
    assert problem["reason"] == f"holds more than {MAX_VALUES} values"


def _many_empty_objects(count: int) -> bytes:
    """A one-ticket batch whose custom field is a flat list of `count` empty objects."""
    head = orjson.dumps([ticket("many", custom_fields={"k": []})])
    return head.replace(b'"k":[]', b'"k":[' + b",".join([b"{}"] * count) + b"]")


def test_a_batch_with_too_many_values_is_a_413_before_decoding(
    client: TestClient, admin_token: str
) -> None:
    dataset_id = create_dataset(client, admin_token)
    body = _many_empty_objects(MAX_VALUES_PER_REQUEST + 1)  # ~1.5 MiB
    response = client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket",
        content=body,
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"max_values": MAX_VALUES_PER_REQUEST}


def test_a_batch_just_under_the_bound_is_decoded_and_its_record_judged(
    client: TestClient, admin_token: str
) -> None:
    dataset_id = create_dataset(client, admin_token)
    # Empty objects count once each, not twice: the pre-count is exact for them.
    body = _many_empty_objects(MAX_VALUES_PER_REQUEST - 1_000)
    response = client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket",
        content=body,
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 1
    [problem] = response.json()["rejections"][0]["errors"]
    assert problem["reason"] == f"holds more than {MAX_VALUES} values"


def test_commas_inside_strings_are_not_counted_as_values(
    client: TestClient, admin_token: str
) -> None:
    dataset_id = create_dataset(client, admin_token)
    prose = ticket("prose", description="a, [b], {c}" * (MAX_VALUES_PER_REQUEST // 4))
    response = client.post(
        f"/v1/datasets/{dataset_id}/customer_support_ticket",
        content=orjson.dumps([prose]),
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )
    # Decoded, not refused: whatever the record's own checks say of so long a description.
    assert response.status_code == 200, response.text
    assert response.json()["received"] == 1


def test_an_admin_body_with_too_many_values_is_a_413(client: TestClient, admin_token: str) -> None:
    body = b'{"name": "n", "scopes": [' + b",".join([b"{}"] * MAX_VALUES_PER_REQUEST) + b"]}"
    response = client.post(
        "/v1/tokens",
        content=body,
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
