"""Peak memory of `carebase import` on a large file.

Writes N realistic tickets (default 1,000,000) as NDJSON, runs `carebase import` on it in
a child process, and prints the child's peak RSS (ru_maxrss) and its records/s. The raw
baseline, measured in the same run: the peak RSS of a child that only reads the same file
line by line with orjson (what any streaming reader of it costs), and of one that starts
the same Python with carebase imported and does nothing else.

    .venv/bin/python -m bench.import_rss [--events 1000000] [--profiles 200000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from bench.data import tickets


def peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, last line of stderr) of one child process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        # wait4 gives this child's own resource usage, not a maximum over all children.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        err.seek(0)
        text = err.read().decode("utf-8", errors="replace").strip()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{text[-2000:]}")
    lines = text.splitlines()
    return usage.ru_maxrss / 1024, elapsed, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--profiles", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.ndjson"
        with path.open("wb") as handle:
            for event in tickets(args.events, args.profiles):
                handle.write(orjson.dumps(event) + b"\n")
        size = path.stat().st_size / 1e6
        env = {
            **os.environ,
            "CAREBASE_DATABASE_URL": f"sqlite:///{tmp}/carebase.db",
            "CAREBASE_LOG_LEVEL": "WARNING",
        }
        python = sys.executable
        idle, _, _ = peak_rss_mb([python, "-c", "import carebase.cli, carebase.app"], env)
        reader = (
            "import orjson, sys\n"
            "n = sum(1 for line in open(sys.argv[1], 'rb') if orjson.loads(line))\n"
            "print(n, file=sys.stderr)"
        )
        read_only, _, _ = peak_rss_mb([python, "-c", reader, str(path)], env)
        create = subprocess.run(
            [python, "-m", "carebase", "dataset", "create", "--name", "rss"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        dataset = create.stdout.strip().splitlines()[-1]
        rss, seconds, summary = peak_rss_mb(
            [python, "-m", "carebase", "import", str(path), "--dataset", dataset], env
        )
    print(f"{args.events:,} tickets over {args.profiles:,} profiles, {size:,.0f} MB of NDJSON")
    print(
        f"carebase import     peak RSS {rss:7.1f} MB   {seconds:7.1f} s   "
        f"{args.events / seconds:,.0f} records/s   (target < 300 MB)"
    )
    print(f"baseline: carebase imported, idle   {idle:7.1f} MB")
    print(f"baseline: orjson line reader        {read_only:7.1f} MB")
    print(f"import summary: {summary}")


if __name__ == "__main__":
    main()
