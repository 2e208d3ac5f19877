"""Comparing an API answer with an expected value (the oracle's) and with a documented shape
(the reference's samples), listing every difference by its path."""

from __future__ import annotations

from typing import Any

import pytest


def differences(got: Any, expected: Any, path: str = "$") -> list[str]:
    """Every place `got` differs from `expected`: values (floats approximately), JSON types,
    keys and their order, list lengths."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected an object, got {got!r}"]
        found: list[str] = []
        if list(got) != list(expected):
            found.append(f"{path}: keys {list(got)} != expected {list(expected)}")
        for key, value in expected.items():
            if key in got:
                found += differences(got[key], value, f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(got, list):
            return [f"{path}: expected a list, got {got!r}"]
        if len(got) != len(expected):
            return [
                f"{path}: {len(got)} items != expected {len(expected)}: {got!r} vs {expected!r}"
            ]
        found = []
        for n, (a, b) in enumerate(zip(got, expected, strict=True)):
            found += differences(a, b, f"{path}[{n}]")
        return found
    if expected is None or isinstance(expected, (bool, str)):
        return (
            []
            if got == expected and type(got) is type(expected)
            else [f"{path}: {got!r} != expected {expected!r}"]
        )
    if isinstance(expected, int):
        ok = isinstance(got, int) and not isinstance(got, bool) and got == expected
        return [] if ok else [f"{path}: {got!r} != expected {expected!r} (an integer)"]
    ok = isinstance(got, (int, float)) and not isinstance(got, bool)
    if ok and got == pytest.approx(expected, rel=1e-9, abs=1e-6):
        return []
    return [f"{path}: {got!r} != expected {expected!r}"]


def kind(value: Any) -> str:
    """The JSON type of a value: number, string, boolean, null, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def shape_differences(
    got: Any, documented: Any, extras: frozenset[str] = frozenset(), path: str = "$"
) -> list[str]:
    """Where `got` does not have the documented sample's shape: every documented key present
    with the same JSON type (a number may be null: no data; recursively; arrays item by item
    against the sample's first item; a top-level array must not be empty), no keys beyond
    the documented ones and `extras` (the contract's + fields; names anywhere in the tree)."""
    if got is None and kind(documented) == "number":
        return []  # the contract: a statistic over no data is null, never 0
    if kind(got) != kind(documented):
        return [f"{path}: {kind(got)} ({got!r:.80}) where the reference has a {kind(documented)}"]
    found: list[str] = []
    if isinstance(documented, dict):
        for key, value in documented.items():
            if key not in got:
                found.append(f"{path}: missing {key!r}")
            else:
                found += shape_differences(got[key], value, extras, f"{path}.{key}")
        unknown = set(got) - set(documented) - extras
        if unknown:
            found.append(f"{path}: keys {sorted(unknown)} are neither documented nor extras")
    elif isinstance(documented, list) and documented:
        if not got and path == "$":
            found.append(f"{path}: empty where the reference has items")
        for n, item in enumerate(got):
            found += shape_differences(item, documented[0], extras, f"{path}[{n}]")
    return found
