# ruff: noqa: S608 -- SQL is built from this file's table names, never from input
"""The population bench/activity.py measures: N mentions over the 12 months before `NOW`.

Generated in Python (seeded, so every run holds the same rows) and written in bulk into a
schema built by the migrations: `executemany` of plain tuples on SQLite (one transaction),
COPY on PostgreSQL (one transaction, foreign-key triggers off while loading), then ANALYZE
(VACUUM ANALYZE on PostgreSQL, so the visibility map lets index-only scans skip the heap).

The shape:
- 200 agents in 10 groups (a fifth of them in a second group), workload skewed (the busiest
  agent takes ~10x the quietest's); 30 classifications, ~1.3 per mention (skewed too);
- states as an inbox ends up: ~55% closed, 12% responded, 4% closed_thread, the rest spread
  over the other states; ~70% responded, each with its response_s (queue + agent time,
  log-normal: ~25% over the 2 h SLA), action_s (NULL for 1 in 10, answered before being
  assigned), bins, broke_* against 2 h, in private when the channel is a DM/email/chat;
- one case per ~3 consecutive mentions (1-5), closed a day after its last agent response
  unless that is after `NOW`; every responded mention has its sent public response, and a
  case may have 0-2 more replies (agent_replies, agents_involved, first_reply_s and
  resolution_s agree with those rows);
- one NPS form; an invitation for ~1 in 4 closed cases, ~40% answered (scores 0-10, about
  half promoters).
"""

from __future__ import annotations

import math
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from carebase.kit.stats import bin_of
from carebase.models.base import to_sqlite_text

NOW = datetime(2026, 11, 29, tzinfo=UTC)
START = NOW - timedelta(days=365)
USERS = 200
GROUPS = 10
CLASSIFICATIONS = 30
FORM_ID = 1
SLA_S = 7200
QUEUE_ID = "q_bench"
FLUSH = 50_000
SLA_JSON = (
    '{"id": "sla_bench", "name": "Default", "customer_sla_seconds": 7200, '
    '"agent_sla_seconds": 7200, "business_hours": null}'
)
# (state, weight): most mentions end closed or responded.
STATE_WEIGHTS = [
    ("closed", 55),
    ("responded", 12),
    ("closed_thread", 4),
    ("no_response_required", 8),
    ("irrelevant", 5),
    ("duplicate", 3),
    ("redirected", 1),
    ("awaiting_approval", 1),
    ("in_progress", 2),
    ("assigned", 4),
    ("new", 5),
]
RESPONDED_STATES = {"closed", "responded", "closed_thread"}
# (source_type, private channel)
SOURCES = [
    ("twitter", False),
    ("facebook", False),
    ("instagram", False),
    ("twitter_dm", True),
    ("facebook_messenger", True),
    ("email", True),
    ("chat", True),
]


def _cols(names: str) -> list[str]:
    return names.split()


COLUMNS: dict[str, list[str]] = {
    "cases": _cols(
        "id case_key profile_id status opened_at first_reply_at last_agent_response_at "
        "last_agent_id last_activity_at closed_at reopened_count created_at updated_at "
        "agent_replies agents_involved first_reply_s resolution_s first_reply_bin "
        "resolution_bin"
    ),
    "mentions": _cols(
        "id queue_id origin origin_key external_id source_type account author_key "
        "author_username profile_id body forgotten published_at received_at thread_key "
        "group_key state state_at follow_up assignee_id assigned_group_id assigned_at "
        "first_response_at first_responder_id case_id sla version created_at updated_at "
        "response_s action_s queue_s response_bin action_bin broke_sla broke_action_sla "
        "responded_in_private"
    ),
    "mention_classifications": _cols(
        "mention_id classification_id applied_by_type applied_by_user_id applied_by_rule_id "
        "applied_at"
    ),
    "responses": _cols(
        "id mention_id case_id profile_id author_id agent_name body private status origin "
        "origin_key external_id sent_at created_at updated_at"
    ),
    "form_invitations": _cols(
        "id form_id case_id mention_id profile_id agent_id group_ids token_hash sent_at "
        "expires_at answered_at"
    ),
    "form_responses": _cols(
        "id form_id invitation_id case_id profile_id agent_id group_ids score comment answered_at"
    ),
}
# Foreign keys point backwards in this order.
ORDER = list(COLUMNS)

Rows = dict[str, list[tuple[Any, ...]]]


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return round(rng.lognormvariate(math.log(median), sigma), 3)


def reference_rows() -> Rows:
    """Users, groups, memberships, classifications, the queue and the NPS form."""
    users = [
        (u, f"agent{u}@example.com", f"Agent{u}", f"Number{u}", "agent", NOW, NOW)
        for u in range(1, USERS + 1)
    ]
    groups = [(g, f"Team {g}", NOW, NOW) for g in range(1, GROUPS + 1)]
    members = {(1 + (u - 1) % GROUPS, u) for u in range(1, USERS + 1)}
    members |= {(1 + (u * 7) % GROUPS, u) for u in range(1, USERS + 1, 5)}
    classifications = [
        (c, f"Topic {c:02d}", f"#{c * 8:02x}{c * 5:02x}{c * 3:02x}", NOW, NOW)
        for c in range(1, CLASSIFICATIONS + 1)
    ]
    return {
        "users": users,
        "groups": groups,
        "group_members": sorted(members),
        "classifications": classifications,
        "inbox_queues": [(QUEUE_ID, "Bench", NOW, NOW)],
        "forms": [(FORM_ID, "nps", "How did we do?", True, "[]", "pk_bench_nps", NOW, NOW)],
    }


REFERENCE_COLUMNS = {
    "users": _cols("id email first_name last_name role created_at updated_at"),
    "groups": _cols("id name created_at updated_at"),
    "group_members": _cols("group_id user_id"),
    "classifications": _cols("id name colour created_at updated_at"),
    "inbox_queues": _cols("id name created_at updated_at"),
    "forms": _cols("id name title nps group_ids public_key created_at updated_at"),
}


def generate(mentions: int, seed: int = 11) -> Iterator[Rows]:
    """The population in chunks of about FLUSH mentions (each chunk's rows only point at
    rows of the same or earlier chunks)."""
    rng = random.Random(seed)
    step = (NOW - START).total_seconds() / mentions
    state_names = [s for s, _ in STATE_WEIGHTS]
    state_cum = list(_cumulative([w for _, w in STATE_WEIGHTS]))
    user_cum = list(_cumulative([1.0 + 9.0 * (u % 37) / 36 for u in range(1, USERS + 1)]))
    class_cum = list(_cumulative([1.0 / (1 + c) ** 0.8 for c in range(CLASSIFICATIONS)]))
    user_ids = list(range(1, USERS + 1))
    class_ids = list(range(1, CLASSIFICATIONS + 1))
    rows: Rows = {table: [] for table in ORDER}
    n = 0
    case_no = 0
    while n < mentions:
        size = min(rng.choice((1, 2, 3, 3, 4, 5)), mentions - n)
        case_id = f"cas_{case_no:026d}"
        profile = f"prf_{rng.randrange(mentions // 4 + 1):026d}"
        case_no += 1
        replies: list[tuple[datetime, int]] = []
        opened: datetime | None = None
        last_mention_id = ""
        for _ in range(size):
            mention_id = f"men_{n:026d}"
            last_mention_id = mention_id
            published = START + timedelta(seconds=(n + rng.random()) * step)
            opened = opened or published
            state = rng.choices(state_names, cum_weights=state_cum)[0]
            source, private = SOURCES[rng.randrange(len(SOURCES))]
            responded = (state in RESPONDED_STATES) == (rng.random() < 0.97)
            assignee = None
            if state != "new" or responded:
                assignee = rng.choices(user_ids, cum_weights=user_cum)[0]
            group = 1 + (assignee - 1) % GROUPS if assignee else rng.choice((None, 1 + n % 10))
            queue_s = action_s = response_s = None
            assigned_at = responded_at = None
            responder = None
            if assignee is not None:
                queue_s = _lognormal(rng, 600, 1.2)
                assigned_at = published + timedelta(seconds=queue_s)
            if responded and assignee is not None:
                if rng.random() < 0.1:  # answered before anyone was assigned
                    queue_s, assigned_at = None, None
                    response_s = _lognormal(rng, 1500, 1.3)
                else:
                    action_s = _lognormal(rng, 1800, 1.3)
                    response_s = round((queue_s or 0.0) + action_s, 3)
                responder = assignee if rng.random() < 0.9 else rng.choice(user_ids)
                responded_at = published + timedelta(seconds=response_s)
                if responded_at > NOW:
                    response_s = action_s = None
                    responded_at, responder = None, None
            state_at = responded_at or assigned_at or published
            rows["mentions"].append(
                (
                    mention_id, QUEUE_ID, "api", "bench", f"x{n}", source, "@acme_help",
                    f"twitter:{profile}", f"@c{profile[-6:]}", profile, "Where is my parcel?",
                    False, published, published, f"t{case_no}", f"g{case_no}", state,
                    state_at, False, assignee, group, assigned_at, responded_at, responder,
                    case_id, SLA_JSON, 1, published, state_at, response_s, action_s, queue_s,
                    bin_of(response_s), bin_of(action_s),
                    None if response_s is None else response_s > SLA_S,
                    None if action_s is None else action_s > SLA_S,
                    None if response_s is None else private,
                )
            )  # fmt: skip
            tags = rng.choices((0, 1, 2, 3), cum_weights=(10, 65, 90, 100))[0]
            for classification in set(rng.choices(class_ids, cum_weights=class_cum, k=tags)):
                by_user = assignee if rng.random() < 0.7 else None
                rows["mention_classifications"].append(
                    (
                        mention_id, classification, "user" if by_user else "rule", by_user,
                        None if by_user else "rule_bench", published,
                    )
                )  # fmt: skip
            if responded_at is not None and responder is not None:
                replies.append((responded_at, responder))
                rows["responses"].append(
                    (
                        f"rsp_{n:026d}", mention_id, case_id, profile, responder,
                        f"Agent{responder}", "On its way!", False, "sent", "carebase", "",
                        f"r{n}", responded_at, responded_at, responded_at,
                    )
                )  # fmt: skip
            n += 1
        assert opened is not None
        if replies:  # a few more replies on the case's thread
            for extra in range(rng.choice((0, 0, 0, 1, 1, 2))):
                at = max(r[0] for r in replies) + timedelta(seconds=_lognormal(rng, 3600, 1.0))
                if at > NOW:
                    break
                author = rng.choice([r[1] for r in replies] + [rng.choice(user_ids)])
                replies.append((at, author))
                rows["responses"].append(
                    (
                        f"rsx_{case_no:024d}{extra:02d}", last_mention_id, case_id, profile,
                        author, f"Agent{author}", "Anything else?", False, "sent", "carebase",
                        "", f"rx{case_no}-{extra}", at, at, at,
                    )
                )  # fmt: skip
        rows["cases"].append(_case(case_id, profile, opened, replies, rows, rng))
        if len(rows["mentions"]) >= FLUSH:
            yield rows
            rows = {table: [] for table in ORDER}
    yield rows


def _case(
    case_id: str,
    profile: str,
    opened: datetime,
    replies: list[tuple[datetime, int]],
    rows: Rows,
    rng: random.Random,
) -> tuple[Any, ...]:
    """The case row (and its NPS invitation and answer, if any)."""
    first = min(replies)[0] if replies else None
    last, last_agent = max(replies) if replies else (None, None)
    closed = (last or opened) + timedelta(days=1)
    status = "closed" if closed <= NOW else "open"
    first_reply_s = round((first - opened).total_seconds(), 3) if first else None
    resolution_s = round((last - opened).total_seconds(), 3) if last else None
    if status == "closed" and rng.random() < 0.27 and last_agent is not None:
        invitation = f"inv_{case_id[4:]}"
        group_ids = f"[{1 + (last_agent - 1) % GROUPS}]"
        answered = closed + timedelta(seconds=_lognormal(rng, 7200, 1.5))
        answered_at = answered if rng.random() < 0.4 and answered <= NOW else None
        rows["form_invitations"].append(
            (
                invitation, FORM_ID, case_id, None, profile, last_agent, group_ids,
                f"h{case_id[4:]}", closed, closed + timedelta(days=7), answered_at,
            )
        )  # fmt: skip
        if answered_at is not None:
            score = rng.choices(range(11), weights=(3, 1, 1, 2, 2, 4, 6, 10, 16, 25, 30))[0]
            rows["form_responses"].append(
                (
                    f"frs_{case_id[4:]}", FORM_ID, invitation, case_id, profile, last_agent,
                    group_ids, score, None, answered_at,
                )
            )  # fmt: skip
    return (
        case_id, f"key:{profile}", profile, status, opened, first, last, last_agent,
        last or opened, closed if status == "closed" else None, 0, opened, last or opened,
        len(replies), len({r[1] for r in replies}), first_reply_s, resolution_s,
        bin_of(first_reply_s), bin_of(resolution_s),
    )  # fmt: skip


def _cumulative(weights: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _sqlite_rows(rows: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(to_sqlite_text(v) if isinstance(v, datetime) else v for v in row)


def _copy_text(value: Any) -> str:
    # COPY's text format; the generated strings hold no tab, newline or backslash.
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _copy_line(row: tuple[Any, ...]) -> str:
    return "\t".join(map(_copy_text, row)) + "\n"


def seed_sqlite(path: str, mentions: int) -> dict[str, int]:
    """Fill the migrated SQLite file at `path`; the number of rows per table."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -500000")

    def write(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        connection.executemany(sql, _sqlite_rows(rows))

    # Secondary indexes are built once after the load (a sort each) rather than row by row.
    indexes = [
        sql
        for (sql,) in connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join(repr(t) for t in ORDER)})"
        )
    ]
    connection.execute("BEGIN")
    for sql in indexes:
        connection.execute(f"DROP INDEX {sql.split()[2]}")
    counts = _load(write, mentions, lambda: None)
    for sql in indexes:
        connection.execute(sql)
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()
    return counts


def seed_postgres(dsn: str, mentions: int) -> dict[str, int]:
    """Fill the migrated PostgreSQL database at `dsn` by COPY; the number of rows per table."""
    with psycopg.connect(dsn) as connection:
        connection.execute("SET session_replication_role = replica")  # no FK triggers

        def write(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with connection.cursor().copy(sql) as copy:
                copy.write("".join(map(_copy_line, rows)))

        # Secondary indexes are built once after the load (a sort each), not row by row.
        indexes = connection.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)",
            (ORDER,),
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f"DROP INDEX {name}")
        counts = _load(write, mentions, lambda: None)
        for _, definition in indexes:
            connection.execute(definition)
        connection.commit()
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return counts


def _load(
    write: Callable[[str, Sequence[str], list[tuple[Any, ...]]], None],
    mentions: int,
    begin: Callable[[], Any],
) -> dict[str, int]:
    begin()
    counts: dict[str, int] = {}
    for table, rows in reference_rows().items():
        write(table, REFERENCE_COLUMNS[table], rows)
        counts[table] = len(rows)
    started = time.perf_counter()
    for chunk in generate(mentions):
        for table in ORDER:
            write(table, COLUMNS[table], chunk[table])
            counts[table] = counts.get(table, 0) + len(chunk[table])
        done = counts["mentions"]
        rate = done / (time.perf_counter() - started)
        print(f"\r  mentions: {done:,} ({rate:,.0f}/s)", end="", flush=True)
    print(flush=True)
    return counts
