"""Tokens through the HTTP API: both headers, revocation, scopes, rate limits, hashing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from carebase.auth.secrets import hash_token
from carebase.db.session import Database
from tests.conftest import FakeClock, make_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_created_token_works_with_both_headers(client: TestClient, admin_token: str) -> None:
    response = client.post(
        "/v1/tokens", json={"name": "reports", "scopes": ["admin"]}, headers=bearer(admin_token)
    )
    assert response.status_code == 201
    secret = response.json()["token"]
    assert secret.startswith("cb_")

    assert client.get("/v1/tokens", headers=bearer(secret)).status_code == 200
    assert client.get("/v1/tokens", headers={"Auth-Api-Token": secret}).status_code == 200


def test_secret_is_shown_once_and_never_listed(client: TestClient, admin_token: str) -> None:
    created = client.post(
        "/v1/tokens", json={"name": "once", "scopes": ["ingest"]}, headers=bearer(admin_token)
    ).json()
    listed = client.get("/v1/tokens", headers=bearer(admin_token)).json()["tokens"]
    shown = client.get(f"/v1/tokens/{created['id']}", headers=bearer(admin_token)).json()
    assert all("token" not in item for item in listed)
    assert "token" not in shown
    assert shown["token_prefix"] == created["token"][:8]
    assert shown["scopes"] == ["ingest"]


def test_database_holds_only_hashes(
    client: TestClient, admin_token: str, database: Database
) -> None:
    secret = client.post(
        "/v1/tokens", json={"name": "hashed", "scopes": ["ingest"]}, headers=bearer(admin_token)
    ).json()["token"]
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_tokens")).all()
    dump = repr(rows)
    assert secret not in dump
    assert admin_token not in dump
    assert hash_token(secret) in dump


def test_revoked_token_gets_401(client: TestClient, admin_token: str) -> None:
    created = client.post(
        "/v1/tokens", json={"name": "short-lived", "scopes": ["admin"]}, headers=bearer(admin_token)
    ).json()
    assert client.get("/v1/tokens", headers=bearer(created["token"])).status_code == 200

    revoked = client.delete(f"/v1/tokens/{created['id']}", headers=bearer(admin_token))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    response = client.get("/v1/tokens", headers={"Auth-Api-Token": created["token"]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    # Revoking again keeps the first revocation time.
    again = client.delete(f"/v1/tokens/{created['id']}", headers=bearer(admin_token))
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


def test_missing_and_unknown_tokens_get_401(client: TestClient, admin_token: str) -> None:
    missing = client.get("/v1/tokens")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthenticated"
    assert missing.headers["WWW-Authenticate"] == "Bearer"

    forged = admin_token[:-1] + ("A" if admin_token[-1] != "A" else "B")
    assert client.get("/v1/tokens", headers=bearer(forged)).status_code == 401
    assert client.get("/v1/tokens", headers=bearer("cb_nonsense")).status_code == 401


def test_wrong_scope_gets_403(client: TestClient, database: Database) -> None:
    ingest_only = make_token(database, "ingest")
    response = client.get("/v1/tokens", headers=bearer(ingest_only))
    assert response.status_code == 403
    body = response.json()["error"]
    assert body["code"] == "insufficient_scope"
    assert body["details"] == {"required_scope": "admin"}


def test_create_rejects_unknown_scope_naming_the_field(
    client: TestClient, admin_token: str
) -> None:
    response = client.post(
        "/v1/tokens", json={"name": "x", "scopes": ["superuser"]}, headers=bearer(admin_token)
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "scopes"


def test_narrowed_ingest_scope_is_accepted(client: TestClient, admin_token: str) -> None:
    response = client.post(
        "/v1/tokens",
        json={"name": "one dataset", "scopes": ["ingest:ds_123", "profiles:read"]},
        headers=bearer(admin_token),
    )
    assert response.status_code == 201
    assert response.json()["scopes"] == ["ingest:ds_123", "profiles:read"]


def test_unknown_token_id_is_404(client: TestClient, admin_token: str) -> None:
    response = client.delete("/v1/tokens/tok_missing", headers=bearer(admin_token))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_last_used_at_is_recorded(client: TestClient, admin_token: str, clock: FakeClock) -> None:
    client.get("/v1/tokens", headers=bearer(admin_token))
    tokens = client.get("/v1/tokens", headers=bearer(admin_token)).json()["tokens"]
    assert tokens[0]["last_used_at"] == clock.now.isoformat().replace("+00:00", "Z")


def _token_id(client: TestClient, admin_token: str, name: str) -> str:
    tokens = client.get("/v1/tokens", headers=bearer(admin_token)).json()["tokens"]
    return str(next(token["id"] for token in tokens if token["name"] == name))


def test_revoking_the_last_admin_token_is_refused(client: TestClient, admin_token: str) -> None:
    # A revoked admin token and an ingest token do not count as another admin.
    spare = client.post(
        "/v1/tokens", json={"name": "spare", "scopes": ["admin"]}, headers=bearer(admin_token)
    ).json()
    client.delete(f"/v1/tokens/{spare['id']}", headers=bearer(admin_token))
    client.post("/v1/tokens", json={"name": "i", "scopes": ["ingest"]}, headers=bearer(admin_token))
    own_id = _token_id(client, admin_token, "admin")

    response = client.delete(f"/v1/tokens/{own_id}", headers=bearer(admin_token))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert "last active admin token" in error["message"]
    assert error["details"] == {"reason": "last_admin_token", "token_id": own_id}
    assert client.get("/v1/tokens", headers=bearer(admin_token)).status_code == 200


def test_revoking_an_admin_token_while_another_is_active_works(
    client: TestClient, admin_token: str
) -> None:
    other = client.post(
        "/v1/tokens", json={"name": "other", "scopes": ["admin"]}, headers=bearer(admin_token)
    ).json()
    own_id = _token_id(client, admin_token, "admin")

    response = client.delete(f"/v1/tokens/{own_id}", headers=bearer(other["token"]))

    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert client.get("/v1/tokens", headers=bearer(admin_token)).status_code == 401
    # Now `other` is the last one.
    last = client.delete(f"/v1/tokens/{other['id']}", headers=bearer(other["token"]))
    assert last.status_code == 409
