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
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from bench.data import tickets


def peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, stderr tail) of a child process."""
    started = time.perf_counter()
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # max over children so far
    return usage.ru_maxrss / 1024, elapsed, process.stderr.strip().splitlines()[-1]


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
        # Baselines first: ru_maxrss of RUSAGE_CHILDREN is a running maximum.
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
