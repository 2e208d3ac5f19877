"""The OpenAPI document lists every error status each operation can answer, in the error shape."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from carebase.http.openapi import ErrorResponse

ERROR_REF = "#/components/schemas/ErrorResponse"


def expected_statuses(method: str, operation: dict[str, Any]) -> set[str]:
    """What the operation's shape says it can answer, written out apart from the app's rules."""
    expected = {"503"}  # every operation uses the database
    if operation.get("security"):
        expected |= {"401", "403", "429"}
    parameters = operation.get("parameters", [])
    if "requestBody" in operation:
        expected |= {"400", "413", "415", "422"}
    if method in {"post", "put", "patch"}:
        expected |= {"408", "413"}  # a body too slow, or too large
    if parameters:
        expected.add("422")
    if any(parameter["in"] == "path" for parameter in parameters):
        expected.add("404")
    return expected


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_lists_the_errors_it_can_answer(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["components"]["schemas"]["ErrorResponse"]["required"] == ["error"]
    # FastAPI's own 422 shape is never answered, so it is not documented.
    assert "HTTPValidationError" not in document["components"]["schemas"]
    missing = {}
    for method, path, operation in operations(document):
        responses = operation["responses"]
        absent = expected_statuses(method, operation) - set(responses)
        if absent:
            missing[f"{method.upper()} {path}"] = sorted(absent)
        for status, response in responses.items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
                assert response["description"], (method, path, status)
    assert missing == {}


def test_domain_errors_are_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    by_id = {op["operationId"]: op["responses"] for _, _, op in operations(document)}
    conflicts = ["revokeToken", "undoProfileMerge", "cancelJob", "ingestPurchase"]
    conflicts += ["createUser", "updateUser", "createSignInLink", "createGroup", "updateGroup"]
    for operation_id in conflicts:
        assert "409" in by_id[operation_id], operation_id
    assert "404" in by_id["createConnector"]
    # A description a route gives is kept.
    assert by_id["revokeToken"]["409"]["description"] == "The token is the last active admin token."
    assert by_id["getHealth"]["503"]["description"] == "The database cannot be reached."
    assert "Retry-After" in by_id["listTokens"]["429"]["headers"]


def test_error_schema_matches_what_the_server_answers(client: TestClient) -> None:
    for response in (
        client.get("/v1/tokens"),
        client.put("/v1/tokens"),
        client.get("/v1/no-such-thing"),
        client.post("/v1/tokens", content=b"{", headers={"Content-Type": "application/json"}),
    ):
        assert response.status_code >= 400
        ErrorResponse.model_validate(response.json(), strict=True)


def test_the_webhook_documents_the_body_it_requires(client: TestClient) -> None:
    # The handler reads raw bytes, which FastAPI does not document: without this a request
    # with no body was valid by the document, yet answered 400 malformed_json.
    document = client.get("/openapi.json").json()
    webhook = document["paths"]["/v1/connectors/{connector_id}/webhook"]["post"]
    body = webhook["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"]["type"] == "object"
    assert "400" in webhook["responses"]
