"""The diff's pure core: canonical hashes and how a record is classified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from carebase.activation import diff


@dataclass
class State:
    payload_hash: str
    status: str


def test_hash_ignores_key_order_and_is_sha256_hex() -> None:
    one = diff.fields_hash({"name": "Ann", "email": "a@x.test", "user_fields.city": "Perth"})
    two = diff.fields_hash({"user_fields.city": "Perth", "email": "a@x.test", "name": "Ann"})
    assert one == two
    assert len(one) == 64
    assert int(one, 16) >= 0


def test_hash_changes_with_any_value_and_with_type() -> None:
    base = diff.fields_hash({"name": "Ann", "age": 3})
    assert diff.fields_hash({"name": "Ann", "age": 4}) != base
    assert diff.fields_hash({"name": "Ann", "age": "3"}) != base
    assert diff.fields_hash({"name": "Ann", "age": 3, "x": None}) != base


def test_canonical_json_is_compact_sorted_and_takes_dates() -> None:
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert diff.canonical({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'
    assert diff.canonical({"at": when}) == b'{"at":"2026-01-02T03:04:00+00:00"}'


def test_classify() -> None:
    digest = diff.fields_hash({"name": "Ann"})
    assert diff.classify(None, digest) == "new"
    assert diff.classify(State(digest, "succeeded"), digest) == "unchanged"
    assert diff.classify(State("0" * 64, "succeeded"), digest) == "changed"
    # A failed delivery is sent again even when nothing changed.
    assert diff.classify(State(digest, "failed"), digest) == "retry"
    assert {"new", "changed", "retry"} == set(diff.TO_SEND)
