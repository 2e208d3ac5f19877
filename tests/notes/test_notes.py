"""Notes on profiles: written and changed by their author only, newest first, restorable for
a day, moved by merges and removed by forget, on both engines."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carebase.db.session import Database
from carebase.models import Note, User
from tests.conftest import FakeClock, make_token
from tests.helpers import Brand, auth


def _user(database: Database, email: str, *, archived: bool = False) -> int:
    with database.unit_of_work() as session:
        user = User(
            email=email,
            first_name=email.split("@")[0].title(),
            last_name="Agent",
            timezone="UTC",
            role="agent",
            archived=archived,
            created_at=FakeClock().now,
            updated_at=FakeClock().now,
        )
        session.add(user)
        session.flush()
        return user.id


def _notes(client: TestClient, token: str, profile_id: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/profiles/{profile_id}/notes", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _write(client: TestClient, token: str, profile_id: str, author: int, body: str) -> Any:
    return client.post(
        f"/v1/profiles/{profile_id}/notes",
        json={"author_id": author, "body": body},
        headers=auth(token),
    )


def _profile(brand: Brand, email: str) -> str:
    brand.post("customer_record", {"link": {"email": email}, "first_name": "Kim"})
    profile_id: str = brand.profile("email", email)["id"]
    return profile_id


def test_notes_are_listed_newest_first_with_their_author(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    brand = Brand(client, admin_token)
    profile = _profile(brand, "kim@example.org")
    sam = _user(database, "sam@brand.io")
    for n in range(3):
        answer = _write(client, admin_token, profile, sam, f"  Called about order {n}  ")
        assert answer.status_code == 201, answer.text
        clock.advance(60)
    first = _notes(client, admin_token, profile, limit=2)
    assert [note["body"] for note in first["items"]] == [
        "Called about order 2",
        "Called about order 1",
    ]
    assert first["items"][0]["author"] == {
        "id": sam,
        "first_name": "Sam",
        "last_name": "Agent",
        "email": "sam@brand.io",
    }
    rest = _notes(client, admin_token, profile, limit=2, cursor=first["next_cursor"])
    assert [note["body"] for note in rest["items"]] == ["Called about order 0"]
    assert rest["next_cursor"] is None


def test_only_the_author_changes_a_note_and_delete_can_be_undone_for_a_day(
    client: TestClient, admin_token: str, database: Database, clock: FakeClock
) -> None:
    brand = Brand(client, admin_token)
    profile = _profile(brand, "kim@example.org")
    sam, ana = _user(database, "sam@brand.io"), _user(database, "ana@brand.io")
    note = _write(client, admin_token, profile, sam, "VIP, handle with care").json()
    path = f"/v1/profiles/{profile}/notes/{note['id']}"
    other = client.patch(path, json={"author_id": ana, "body": "x"}, headers=auth(admin_token))
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "not_author"
    clock.advance(30)
    edited = client.patch(path, json={"author_id": sam, "body": "VIP"}, headers=auth(admin_token))
    assert edited.json()["body"] == "VIP"
    assert edited.json()["edited"] is True
    deleted = client.delete(path, params={"author_id": sam}, headers=auth(admin_token))
    assert deleted.json()["deleted_at"] is not None
    assert _notes(client, admin_token, profile)["items"] == []
    restored = client.post(f"{path}/restore", params={"author_id": sam}, headers=auth(admin_token))
    assert restored.status_code == 200
    assert [n["body"] for n in _notes(client, admin_token, profile)["items"]] == ["VIP"]
    # Deleted again and past the day: gone for good (purged by the next delete there).
    client.delete(path, params={"author_id": sam}, headers=auth(admin_token))
    clock.advance(86_401)
    late = client.post(f"{path}/restore", params={"author_id": sam}, headers=auth(admin_token))
    assert late.status_code == 404
    other_note = _write(client, admin_token, profile, sam, "second").json()
    client.delete(
        f"/v1/profiles/{profile}/notes/{other_note['id']}",
        params={"author_id": sam},
        headers=auth(admin_token),
    )
    with database.unit_of_work(write=False) as session:
        ids = set(session.scalars(select(Note.id)))
    assert note["id"] not in ids


def test_merges_move_notes_and_forget_removes_them(
    client: TestClient, admin_token: str, database: Database
) -> None:
    brand = Brand(client, admin_token)
    kim = _profile(brand, "kim@example.org")
    other = _profile(brand, "kim.work@example.org")
    sam = _user(database, "sam@brand.io")
    _write(client, admin_token, kim, sam, "prefers email")
    _write(client, admin_token, other, sam, "works nights")
    brand.post(
        "unify", {"records": [{"email": "kim@example.org"}, {"email": "kim.work@example.org"}]}
    )
    survivor = brand.profile("email", "kim@example.org")["id"]
    merged = other if survivor == kim else kim
    # Both ids answer the survivor's notes: both notes.
    for profile_id in (survivor, merged):
        bodies = {n["body"] for n in _notes(client, admin_token, profile_id)["items"]}
        assert bodies == {"prefers email", "works nights"}
    assert client.delete(f"/v1/profiles/{survivor}", headers=auth(admin_token)).status_code == 200
    with database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Note)) == 0


def test_bad_notes_are_422_naming_the_field_and_scopes_hold(
    client: TestClient, admin_token: str, database: Database
) -> None:
    brand = Brand(client, admin_token)
    profile = _profile(brand, "kim@example.org")
    sam = _user(database, "sam@brand.io")
    gone = _user(database, "gone@brand.io", archived=True)
    for author, body, field in (
        (sam, "   ", "body"),
        (sam, "x" * 5001, "body"),
        (sam, "a\u0000b", "body"),
        (gone, "hello", "author_id"),
        (999_999, "hello", "author_id"),
    ):
        answer = _write(client, admin_token, profile, author, body)
        assert answer.status_code == 422, (field, answer.text)
        assert field in {p["field"].split(".")[-1] for p in answer.json()["error"]["details"]}
    assert _write(client, admin_token, "prf_nope", sam, "hi").status_code == 404
    bad_cursor = client.get(
        f"/v1/profiles/{profile}/notes", params={"cursor": "zz"}, headers=auth(admin_token)
    )
    assert bad_cursor.status_code == 422
    reader = make_token(database, "profiles:read")
    assert _write(client, reader, profile, sam, "hi").status_code == 403
    writer = make_token(database, "notes:write")
    assert _write(client, writer, profile, sam, "hi").status_code == 201


def test_an_author_id_past_64_bits_is_a_422_naming_it(client: TestClient, admin_token: str) -> None:
    profile = _profile(Brand(client, admin_token), "kim@example.org")
    for author in (2**63, 0):
        answer = _write(client, admin_token, profile, author, "x")
        assert answer.status_code == 422
        assert "author_id" in answer.text
    deleted = client.delete(
        f"/v1/profiles/{profile}/notes/1", params={"author_id": 2**64}, headers=auth(admin_token)
    )
    assert deleted.status_code == 422
    assert "author_id" in deleted.text
