"""Where ingestion spends its time, in process: `load_batch` over realistic tickets on a
migrated temp SQLite file (durable commits, as the server runs), timed per stage and,
with `--cprofile`, under cProfile.

    .venv/bin/python -m bench.profile_ingest [--events 10000] [--cprofile] [--top 40] [--http]

`--http` posts the bodies to the app in process (TestClient: middleware, auth, the route,
the response) instead of calling `load_batch`; what is not a stage is then the HTTP layer.

The batches are the bench's (`bench.data.tickets`, 1,000 per batch, decoded from JSON as
the API does), so the figures compare with `bench.ingest`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from tests.conftest import test_settings

from bench.data import tickets
from carebase.app import tune_garbage_collector
from carebase.datasets import service as datasets
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.identity import service as identity
from carebase.ingest import batch, pipeline
from carebase.ingest.service import IngestConfig, decode_batch, may_contain_nul
from carebase.models import utcnow
from carebase.profiles import service as profiles
from carebase.records import tickets as ticket_records

BATCH = 1000


def bodies(events: int, profiles_count: int) -> list[bytes]:
    """The events as request bodies of 1,000, exactly as bench.ingest posts them."""
    out, current = [], []
    for event in tickets(events, profiles_count):
        current.append(event)
        if len(current) == BATCH:
            out.append(orjson.dumps(current))
            current = []
    if current:
        out.append(orjson.dumps(current))
    return out


class Stages:
    """Wall and CPU time per pipeline stage, by wrapping the stage functions (no cProfile
    overhead). CPU time is what to compare on a shared machine; wall adds fsync and waits."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def wrap(self, owner: Any, name: str, label: str) -> Callable[[], None]:
        """Time every call of `owner.name` under `label`; the undo."""
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.cpu[label] += time.process_time() - cpu

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Wrap the stages for the duration."""
        undo = [
            self.wrap(batch, "prepare", "prepare (validate + normalise)"),
            self.wrap(pipeline, "prepare", "prepare (validate + normalise)"),
            self.wrap(identity, "resolve", "identity.resolve"),
            self.wrap(ticket_records, "store", "ticket store"),
            self.wrap(profiles, "refresh", "attribute refresh"),
        ]
        try:
            yield
        finally:
            for each in undo:
                each()


def run(events: int, profiles_count: int, *, cprofile: bool, top: int, http: bool) -> None:
    """Load every batch through `load_batch`, and print the stage shares (and the profile)."""
    payloads = bodies(events, profiles_count)
    with tempfile.TemporaryDirectory() as tmp:
        settings = test_settings(f"sqlite:///{tmp}/carebase.db")
        database = Database.from_settings(settings)
        migrate_to_head(database.engine)
        with database.unit_of_work() as session:
            dataset_id = datasets.create_dataset(
                session, name="bench", record_type="customer_support_ticket", now=utcnow()
            ).id
        config = IngestConfig.from_settings(settings)
        post = _poster(settings, database, dataset_id) if http else None
        tune_garbage_collector()  # as the server does at start-up
        stages = Stages()
        profiler = cProfile.Profile() if cprofile else None
        decode = decode_cpu = 0.0
        started, cpu = time.perf_counter(), time.process_time()
        with stages.installed():
            if profiler is not None:
                profiler.enable()
            for body in payloads:
                if post is not None:
                    post(body)
                    continue
                begun, begun_cpu = time.perf_counter(), time.process_time()
                records = decode_batch(body)
                nul = may_contain_nul(body)
                decode += time.perf_counter() - begun
                decode_cpu += time.process_time() - begun_cpu
                batch.load_batch(
                    database,
                    dataset_id,
                    "customer_support_ticket",
                    records,
                    config=config,
                    source="bench",
                    may_contain_nul=nul,
                )
            if profiler is not None:
                profiler.disable()
        total, total_cpu = time.perf_counter() - started, time.process_time() - cpu
        database.dispose()
    print(
        f"{events} tickets over {profiles_count} profiles: {total:.2f} s wall "
        f"({events / total:,.0f}/s), {total_cpu:.2f} s CPU ({events / total_cpu:,.0f}/s)"
    )
    rest = "the rest (locks, suppress, log, commit" + (", HTTP)" if http else ")")
    walls = {"decode JSON": decode, **stages.seconds}
    walls[rest] = total - sum(walls.values())
    cpus = {"decode JSON": decode_cpu, **stages.cpu}
    cpus[rest] = total_cpu - sum(cpus.values())
    print(f"  {'stage':42s} {'wall':>8s} {'share':>6s} {'CPU':>8s} {'share':>6s}")
    for label, seconds in walls.items():
        print(
            f"  {label:42s} {seconds:6.2f} s {seconds / total:6.1%} "
            f"{cpus[label]:6.2f} s {cpus[label] / total_cpu:6.1%}"
        )
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
        print(out.getvalue())


def _poster(settings: Any, database: Database, dataset_id: str) -> Callable[[bytes], None]:
    """Post a body to the app in process, as the bench's client does."""
    from fastapi.testclient import TestClient
    from tests.conftest import make_token

    from carebase.app import create_app

    token = make_token(database, "admin")
    client = TestClient(create_app(settings))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/v1/datasets/{dataset_id}/customer_support_ticket"

    def post(body: bytes) -> None:
        client.post(path, content=body, headers=headers).raise_for_status()

    return post


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--cprofile", action="store_true", help="also profile with cProfile")
    parser.add_argument("--top", type=int, default=40, help="lines of the cProfile listing")
    parser.add_argument("--http", action="store_true", help="post to the app in process")
    args = parser.parse_args()
    run(args.events, args.profiles, cprofile=args.cprofile, top=args.top, http=args.http)


if __name__ == "__main__":
    main()
