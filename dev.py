#!/usr/bin/env python3
"""Set up and run carebase with nothing but Python 3.11+.

    python3 dev.py run     install into .venv and start carebase on SQLite
    python3 dev.py test    install dev tools, then ruff, mypy --strict and pytest
    python3 dev.py vendor  re-fetch the console's vendored npm assets (needs npm; dev only)
    python3 dev.py screenshots  render each console page (demo data) into docs/screenshots/

Installs are pinned by pyproject.toml and constraints.txt, and skipped when
nothing changed since the last one.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _stamp(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_installed(extras: str = "") -> None:
    """Create .venv and install carebase (and `extras`) when missing or out of date."""
    if sys.version_info < (3, 11):
        sys.exit(f"carebase needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    stamp_file = VENV / ".carebase-install"
    installed = stamp_file.read_text().split() if stamp_file.exists() else []
    # An install with the dev extras also satisfies a plain one.
    acceptable = {_stamp(extras), _stamp("[dev]")} if not extras else {_stamp(extras)}
    if acceptable & set(installed):
        return
    wanted = _stamp(extras)
    print(f"Installing carebase{extras} into .venv …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "install", "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}{extras}"], check=True
    )
    stamp_file.write_text(wanted + "\n")


def _postgres_found() -> bool:
    if os.environ.get("CAREBASE_TEST_PG_BIN"):
        return True
    return bool(shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _chromium_found() -> bool:
    return shutil.which(os.environ.get("CAREBASE_CHROMIUM", "/usr/bin/chromium")) is not None


def run(args: list[str]) -> int:
    """Start carebase on its embedded SQLite database, with the demo brand loaded on the
    first start (`--empty`: without it)."""
    ensure_installed()
    demo = ["--demo"]
    if "--empty" in args:
        args = [arg for arg in args if arg != "--empty"]
        demo = []
    return subprocess.call([str(BIN / "carebase"), "serve", *demo, *args], cwd=ROOT)


def test(args: list[str]) -> int:
    """Lint, type-check and run the whole suite on SQLite and PostgreSQL, browser tests
    (Chromium) included."""
    ensure_installed("[dev]")
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not _postgres_found():
        banner = "!" * 78
        print(
            f"{banner}\n!! PostgreSQL binaries (initdb, pg_ctl) NOT FOUND: the PostgreSQL half of "
            f"the\n!! suite will be SKIPPED. Install PostgreSQL or set CAREBASE_TEST_PG_BIN."
            f"\n{banner}",
            flush=True,
        )
        if in_ci:
            print("CI=true: a skipped PostgreSQL run is a failure.", flush=True)
            return 1
    if not _chromium_found():
        banner = "!" * 78
        print(
            f"{banner}\n!! Chromium NOT FOUND: the browser tests (tests/browser) will be SKIPPED."
            f"\n!! Install Debian's `chromium` package or set CAREBASE_CHROMIUM.\n{banner}",
            flush=True,
        )
        if in_ci:
            print("CI=true: skipped browser tests are a failure.", flush=True)
            return 1
    steps = [
        ["ruff", "check", "src", "tests", "bench", "dev.py"],
        ["ruff", "format", "--check", "src", "tests", "bench", "dev.py"],
        ["mypy", "--strict", "src"],
        ["pytest", *args],
    ]
    for step in steps:
        print(f"\n$ {' '.join(step)}", flush=True)
        code = subprocess.call([str(BIN / step[0]), *step[1:]], cwd=ROOT)
        if code != 0:
            return code
    return 0


# Browser assets vendored from the npm registry: (package, version, files, licence files),
# paths as in the package's tarball. Each lands flat in <destination>/<package>-<version>/ with
# VENDORED.json recording npm's dist.integrity and every file's sha256
# (tests/web/test_vendored.py checks them). Nothing here runs at run time.
VENDORED = {
    "src/carebase/web/static/vendor": [
        ("htmx.org", "2.0.11", ["dist/htmx.min.js"], ["LICENSE"]),
        (
            "swagger-ui-dist",
            "5.35.0",
            ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"],
            ["LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"],
        ),
        (
            "redoc",
            "2.5.4",
            ["bundles/redoc.standalone.js"],
            ["LICENSE", "bundles/redoc.standalone.js.LICENSE.txt"],
        ),
        ("chart.js", "4.5.1", ["dist/chart.umd.js"], ["LICENSE.md"]),
    ],
    # axe-core scans pages in the browser tests; it is never shipped.
    "tests/browser/vendor": [
        ("axe-core", "4.14.1", ["axe.min.js"], ["LICENSE", "LICENSE-3RD-PARTY.txt"]),
    ],
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def vendor(args: list[str]) -> int:
    """Fetch every VENDORED package with `npm pack` and write its files and VENDORED.json.
    A version already recorded must come back with the same npm integrity."""
    npm = shutil.which("npm")
    if npm is None:
        print("`npm` not found: vendoring needs it (carebase itself never does).")
        return 1
    for destination, packages in VENDORED.items():
        target = ROOT / destination
        manifest_path = target / "VENDORED.json"
        known = {}
        if manifest_path.exists():
            known = {
                (entry["name"], entry["version"]): entry["integrity"]
                for entry in json.loads(manifest_path.read_text())["packages"]
            }
        entries = []
        with tempfile.TemporaryDirectory() as tmp:
            fetched = {}
            for name, version, files, licences in packages:
                spec = f"{name}@{version}"
                print(f"npm pack {spec}", flush=True)
                output = subprocess.run(
                    [npm, "pack", spec, "--json", "--pack-destination", tmp],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=tmp,
                ).stdout
                info = json.loads(output)[0]
                integrity = info["integrity"]
                expected = known.get((name, version))
                if expected is not None and expected != integrity:
                    print(f"{spec}: npm integrity {integrity} differs from the recorded {expected}")
                    return 1
                tarball = os.path.join(tmp, info["filename"])
                with open(tarball, "rb") as handle:
                    digest = base64.b64encode(hashlib.sha512(handle.read()).digest()).decode()
                if integrity != f"sha512-{digest}":
                    print(f"{spec}: the tarball's sha512 does not match npm's integrity")
                    return 1
                with tarfile.open(tarball, "r:gz") as tar:
                    contents = {}
                    for path in ["package.json", *files, *licences]:
                        member = tar.extractfile(f"package/{path}")
                        if member is None:
                            print(f"{spec}: package/{path} is not a file")
                            return 1
                        contents[path] = member.read()
                fetched[(name, version)] = (integrity, info["filename"], contents)
            if target.exists():
                shutil.rmtree(target)
            for name, version, files, licences in packages:
                integrity, filename, contents = fetched[(name, version)]
                meta = json.loads(contents["package.json"])
                directory = target / f"{name}-{version}"
                directory.mkdir(parents=True)
                recorded = {}
                for path in [*files, *licences]:
                    flat = path.rsplit("/", 1)[-1]
                    (directory / flat).write_bytes(contents[path])
                    recorded[flat] = {"from": f"package/{path}", "sha256": _sha256(contents[path])}
                entries.append(
                    {
                        "name": name,
                        "version": version,
                        "license": meta.get("license"),
                        "homepage": meta.get("homepage"),
                        "tarball": f"https://registry.npmjs.org/{name}/-/{filename}",
                        "integrity": integrity,
                        "directory": directory.name,
                        "licence_files": [path.rsplit("/", 1)[-1] for path in licences],
                        "files": recorded,
                    }
                )
        manifest = {
            "about": "Vendored from the npm registry by `python3 dev.py vendor`; do not edit.",
            "packages": entries,
        }
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"wrote {manifest_path.relative_to(ROOT)}")
    return 0


def screenshots(args: list[str]) -> int:
    """Render a PNG of each console page on the demo brand (needs Chromium)."""
    ensure_installed("[dev]")
    return subprocess.call([str(PYTHON), "-m", "tests.browser.screenshots", *args], cwd=ROOT)


def main() -> int:
    """Dispatch `run`, `test`, `vendor` or `screenshots`."""
    commands = {"run": run, "test": test, "vendor": vendor, "screenshots": screenshots}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
