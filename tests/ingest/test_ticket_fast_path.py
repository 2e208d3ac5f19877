"""The ticket fast path against the pydantic model it stands in for: on every input, either
the fast path declines (None) or it gives exactly the model's values, types included."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime
from typing import Any

import orjson
import pytest
from bench.data import tickets
from pydantic import ValidationError

from carebase.recordtypes import tickets_fast
from carebase.recordtypes.tickets import Channel, TicketEvent, TicketLink, Timeline, _from_model
from carebase.recordtypes.tickets_fast import fast_ticket

BASE: dict[str, Any] = {
    "ticket_id": "T1",
    "action_at": "2026-01-02T03:04:05+00:00",
    "link": {"email": "a@example.com"},
    "timeline": {"created_at": "2026-01-01T00:00:00Z"},
}
TIMESTAMPS = [
    "2026-01-01T00:00:00",
    "2026-01-01 00:00:00",
    "2026-01-01t00:00:00",
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00z",
    "2026-01-01T00:00:00+10:00",
    "2026-01-01T00:00:00-03:30",
    "2026-01-01T00:00:00-00:00",
    "2026-01-01T00:00:00+23:59",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00+0100",
    "2026-01-01T00:00:00+01",
    "2026-01-01T00:00:00.5",
    "2026-01-01T00:00:00.123456Z",
    "2026-01-01T00:00:00.1234567Z",
    "2026-01-01T00:00:00.",
    "2026-01-01T00:00",
    "2026-01-01T24:00:00",
    "2026-01-01T23:59:60",
    "2026-02-29T00:00:00",
    "2024-02-29T00:00:00",
    "2026-13-01T00:00:00",
    "2026-00-10T00:00:00",
    "0000-01-01T00:00:00",
    "0001-01-01T00:00:00",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59-01:00",
    "2026-01-01",
    "20260101T000000",
    "1700000000",
    "1700000000.5",
    " 2026-01-01T00:00:00",
    "2026-01-01T00:00:00 ",
    "2026-01-01T00:00:00\n",
    "",
    "now",
    "\uff12\uff10\uff12\uff16-01-01T00:00:00",
    None,
    0,
    1700000000,
    1.5,
    True,
    [],
    {},
]
NUMBERS = [0, 1, 10_000_000, 10_000_001, -1, 0.0, 2.5, -0.0, 1e7, 1e7 + 1, float("nan"),
           float("inf"), True, False, "5", "5.5", "", None, [], 2**64, -(2**64)]  # fmt: skip
TEXTS = ["", "x", "x" * 100, "x" * 101, "x" * 255, "x" * 256, "é" * 100, "é" * 101, None, 5,
         5.5, True, [], {}, b"x"]  # fmt: skip
LABELS = [[], ["a"], "a", "", [""], ["a", "b"], ["x" * 255], ["x" * 256], [1], [None], None,
          5, ["a"] * 500, ["a"] * 501, ("a",), {"a"}, {"a": 1}, [["a"]]]  # fmt: skip
SCORES = ["good", "", "x" * 255, "x" * 256, "5", 5, -5, 0, 2**62, 2**63, 2**64,
          -(2**63), 5.0, 0.5, float("nan"), float("inf"), -float("inf"), True, False,
          None, [], {}]  # fmt: skip
IDS = ["T1", "", "x" * 255, "x" * 256, 12345, 0, -1, 10**254, 10**255, -(10**253),
       True, False, 1.0, None, [], {}, b"T1"]  # fmt: skip
LINKS = [
    {"email": "a@example.com"},
    {"mobile": "+61400000000"},
    {"email": "a@example.com", "mobile": "+61400000000"},
    {"email": None, "mobile": "+61400000000"},
    {"email": "a@example.com", "mobile": None},
    {"email": None, "mobile": None},
    {},
    {"email": "x" * 320},
    {"email": "x" * 321},
    {"mobile": "1" * 64},
    {"mobile": "1" * 65},
    {"email": 5},
    {"mobile": 61400000000},
    {"email": "a@example.com", "customer_id": "c1"},
    {"email": "a@example.com", "customer_id": 77},
    {"email": "a@example.com", "customer_id": ""},
    {"email": "a@example.com", "customer_id": True},
    {"email": "a@example.com", "customer_id": "c1", "system_name": "shop"},
    {"email": "a@example.com", "customer_id": None, "system_name": "shop"},
    {"email": "a@example.com", "system_name": "shop"},
    {"email": "a@example.com", "system_name": None},
    {"email": "a@example.com", "customer_id": "c1", "system_name": "s" * 101},
    {"system_name": "shop", "customer_id": "c1", "email": "a@example.com"},
    {"email": "a@example.com", "other": "x"},
    {"email": "a@example.com", "other": None},
    {"customer_id": "c1"},
    "a@example.com",
    ["a@example.com"],
    None,
]


def _variants() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [BASE]
    for value in IDS:
        out.append({**BASE, "ticket_id": value})
    for value in TIMESTAMPS:
        out.append({**BASE, "action_at": value})
        out.append({**BASE, "timeline": {"created_at": value}})
        out.append({**BASE, "timeline": {**BASE["timeline"], "closed_at": value}})
    for value in LINKS:
        out.append({**BASE, "link": value})
    for name in ("duration", "reply_time", "first_reply_time"):
        for value in NUMBERS:
            out.append({**BASE, "timeline": {**BASE["timeline"], name: value}})
    for name in ("title", "ticket_url", "description", "status"):
        for value in TEXTS:
            out.append({**BASE, name: value})
    out.append({**BASE, "title": "x" * 2000})
    out.append({**BASE, "title": "x" * 2001})
    out.append({**BASE, "description": "x" * 100_001})
    for name in ("tags", "agents"):
        for value in LABELS:
            out.append({**BASE, name: value})
    for value in LABELS:
        out.append({**BASE, "channel": {"type": value}})
        out.append({**BASE, "channel": {"name": value, "extra": 1}})
    for channel in (None, {}, [], "email", {"type": None}, {"other": [1, 2]}):
        out.append({**BASE, "channel": channel})
    for value in SCORES:
        out.append({**BASE, "satisfaction_score": value})
    for custom in (None, {}, {"a": 1}, {"a": {"b": [1, None]}}, [], "x", {"timeline.x": 1}):
        out.append({**BASE, "custom_fields": custom})
    out.append({**BASE, "extra_one": 1, "extra_two": {"x": [1]}, "custom_fields": {"k": "v"}})
    out.append({**BASE, "timeline": {**BASE["timeline"], "sla": "gold", "duration": 3}})
    out.append({"ticket_id": "T1"})
    out.append({})
    for name in ("ticket_id", "action_at", "link", "timeline"):
        out.append({key: value for key, value in BASE.items() if key != name})
    out.append({**BASE, "timeline": None})
    out.append({**BASE, "timeline": "2026-01-01"})
    return out


def _shape(value: Any) -> Any:
    """A value with its types spelled out: 1 and 1.0, or two equal instants in different
    zones, compare unequal."""
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), repr(value.tzinfo))
    if isinstance(value, dict):
        return ("dict", [(key, _shape(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_shape(item) for item in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def _check(raw: dict[str, Any]) -> bool:
    """Compare on one record; True when the fast path took it."""
    try:
        orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return False  # parse_ticket never asks the fast path
    fast = fast_ticket(raw)
    try:
        expected = _from_model(TicketEvent.model_validate(raw))
    except ValidationError:
        assert fast is None, raw
        return False
    if fast is None:
        return False
    for name in (f.name for f in dataclasses.fields(fast)):
        assert _shape(getattr(fast, name)) == _shape(getattr(expected, name)), (name, raw)
    return True


def test_field_names_match_the_models() -> None:
    assert set(TicketEvent.model_fields) == tickets_fast.EVENT_FIELDS
    assert tuple(TicketLink.model_fields) == tickets_fast.LINK_FIELDS
    assert set(Timeline.model_fields) == tickets_fast.TIMELINE_FIELDS
    assert set(Channel.model_fields) == tickets_fast.CHANNEL_FIELDS


def test_every_edge_case_is_declined_or_identical() -> None:
    taken = sum(_check(raw) for raw in _variants())
    assert taken > 100  # the fast path does take the common shapes


def test_random_combinations_are_declined_or_identical() -> None:
    rng = random.Random(11)
    pools: dict[str, list[Any]] = {
        "ticket_id": IDS,
        "action_at": TIMESTAMPS,
        "link": LINKS,
        "title": TEXTS,
        "status": TEXTS,
        "tags": LABELS,
        "agents": LABELS,
        "satisfaction_score": SCORES,
    }
    usual = {**BASE, "title": "Refund", "status": "open", "tags": ["vip"], "agents": "Sam"}
    taken = 0
    for _ in range(3000):
        # Mostly the usual values, a few from the edge cases: most records stay valid.
        raw: dict[str, Any] = {
            name: rng.choice(pool) if rng.random() < 0.25 else usual.get(name)
            for name, pool in pools.items()
            if rng.random() < 0.95
        }
        created = rng.choice(TIMESTAMPS) if rng.random() < 0.25 else "2026-01-01T00:00:00"
        raw["timeline"] = {"created_at": created}
        if rng.random() < 0.5:
            raw["timeline"]["duration"] = rng.choice(NUMBERS)
        if rng.random() < 0.3:
            raw["channel"] = {"type": rng.choice(LABELS), "name": rng.choice(LABELS)}
        if rng.random() < 0.2:
            raw["note"] = rng.choice(TEXTS)
        taken += _check(raw)
    assert taken > 200


@pytest.mark.parametrize("seed", [1, 2])
def test_the_bench_tickets_all_take_the_fast_path(seed: int) -> None:
    for event in tickets(500, 200, seed=seed):
        raw = orjson.loads(orjson.dumps(event))
        assert _check(raw), raw
