"""Every vendored browser asset is the file npm published, with its licence beside it.

`python3 dev.py vendor` writes the files and each VENDORED.json from the pins in dev.py; this
test checks what is committed against both, so an edited or stale asset fails here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import dev
import pytest

ROOT = Path(__file__).resolve().parents[2]
DESTINATIONS = sorted(dev.VENDORED)


def manifest(destination: str) -> Any:
    return json.loads((ROOT / destination / "VENDORED.json").read_text())


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_the_manifest_records_the_pinned_packages(destination: str) -> None:
    recorded = [(p["name"], p["version"]) for p in manifest(destination)["packages"]]
    assert recorded == [(name, version) for name, version, _, _ in dev.VENDORED[destination]]


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_every_vendored_file_matches_its_recorded_hash(destination: str) -> None:
    root = ROOT / destination
    packages = manifest(destination)["packages"]
    expected_dirs = {package["directory"] for package in packages}
    assert {p.name for p in root.iterdir() if p.is_dir()} == expected_dirs
    for package in packages:
        assert package["integrity"].startswith("sha512-")
        directory = root / package["directory"]
        assert directory.name == f"{package['name']}-{package['version']}"
        on_disk = {p.name for p in directory.iterdir()}
        assert on_disk == set(package["files"]), package["name"]
        for name, recorded in package["files"].items():
            digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
            assert digest == recorded["sha256"], f"{package['directory']}/{name} was changed"


@pytest.mark.parametrize("destination", DESTINATIONS)
def test_every_vendored_package_carries_its_licence(destination: str) -> None:
    for package in manifest(destination)["packages"]:
        assert package["license"], package["name"]
        licences = package["licence_files"]
        assert any(name.startswith("LICENSE") for name in licences), package["name"]
        for name in licences:
            assert (ROOT / destination / package["directory"] / name).stat().st_size > 0


def test_axe_is_for_the_tests_only() -> None:
    shipped = {p["name"] for p in manifest("src/carebase/web/static/vendor")["packages"]}
    assert "axe-core" not in shipped
