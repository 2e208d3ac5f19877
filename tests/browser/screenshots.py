"""Render a PNG of every console page, on the demo brand, into docs/screenshots/.

    python3 dev.py screenshots [--only NAME ...] [--out DIR]

Starts `carebase serve --demo` on a throwaway SQLite database, opens each page of `SHOTS` in
Debian's Chromium (as the browser tests do, offline but for the server) and writes
`<name>.png`. A page added to the console adds a `Shot` here; look at the pictures after
every change to a page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.accounts import demo_manager, seed_team, signed_in_visit
from tests.browser.chromium import chromium_path, launch, open_page
from tests.serverproc import running_server

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Shot:
    """One picture: a page at a viewport size, taken once `ready` (a selector) is shown."""

    name: str
    path: str
    width: int = 1280
    height: int = 800
    ready: str | None = None
    full_page: bool = False
    # Taken signed in as the demo brand's first manager.
    signed_in: bool = False


SHOTS: tuple[Shot, ...] = (
    Shot("sign-in", "/sign-in"),
    Shot("sign-in-260px", "/sign-in", width=260, height=600),
    Shot("api-docs", "/docs", ready=".opblock-summary-path"),
    Shot("account", "/account", signed_in=True),
    Shot("settings-users", "/settings/users", signed_in=True),
    Shot("settings-user", "/settings/users/2", signed_in=True),
    Shot("settings-groups", "/settings/groups", signed_in=True),
    Shot("settings-tokens", "/settings/tokens", signed_in=True),
)


def take(shots: list[Shot], out: Path) -> int:
    """Start a demo server, photograph `shots` into `out`; 0 when every page answered."""
    executable = chromium_path()
    if executable is None:
        print("Chromium not found: install Debian's `chromium` or set CAREBASE_CHROMIUM.")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        url = f"sqlite:///{tmp}/carebase.db"
        with running_server(url, args=["--demo"], start_timeout=600) as server:
            print(f"demo server up in {time.perf_counter() - started:.1f} s", flush=True)
            manager = None
            if any(shot.signed_in for shot in shots):
                manager = demo_manager(server)
                seed_team(server)
            with sync_playwright() as playwright:
                browser = launch(playwright, executable)
                for shot in shots:
                    began = time.perf_counter()
                    if shot.signed_in and manager is not None:
                        visit = signed_in_visit(
                            browser,
                            server,
                            manager,
                            shot.path,
                            width=shot.width,
                            height=shot.height,
                        )
                    else:
                        visit = open_page(
                            browser, server.url, shot.path, width=shot.width, height=shot.height
                        )
                    if shot.ready:
                        visit.page.locator(shot.ready).first.wait_for(timeout=30_000)
                    target = out / f"{shot.name}.png"
                    visit.page.screenshot(path=str(target), full_page=shot.full_page)
                    visit.context.close()
                    problem = "" if visit.status < 400 else f"  (HTTP {visit.status})"
                    failures += bool(problem)
                    print(
                        f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
                        f"  {time.perf_counter() - began:.1f} s{problem}",
                        flush=True,
                    )
                browser.close()
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    """Parse the arguments and take the pictures."""
    parser = argparse.ArgumentParser(prog="python3 dev.py screenshots", description=__doc__)
    parser.add_argument("--only", action="append", metavar="NAME", help="only this shot")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    unknown = set(args.only or ()) - {s.name for s in SHOTS}
    if unknown:
        parser.error(f"no such shot: {', '.join(sorted(unknown))}")
    return take(shots, args.out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
