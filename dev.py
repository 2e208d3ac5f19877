#!/usr/bin/env python3
"""Set up and run carebase with nothing but Python 3.11+.

    python3 dev.py run     install into .venv and start carebase on SQLite
    python3 dev.py test    install dev tools, then ruff, mypy --strict and pytest

Installs are pinned by pyproject.toml and constraints.txt, and skipped when
nothing changed since the last one.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
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
    """Lint, type-check and run the whole suite on SQLite and PostgreSQL."""
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


def main() -> int:
    """Dispatch `run` or `test`."""
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
