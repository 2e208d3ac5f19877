"""Two server processes creating the same users and groups at once: for each email (and each
group name) exactly one 201 and otherwise 409 `conflict` - never a 500 - and one row each."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import text

from carebase.db.session import Database
from tests.conftest import make_token, test_settings
from tests.helpers import auth
from tests.serverproc import running_server

pytestmark = pytest.mark.slow
SERVERS = 2
CLIENTS_PER_SERVER = 3
EMAILS = 15
GROUPS = 5


def test_one_email_created_twice_at_once(database_url: str) -> None:
    database = Database.from_settings(test_settings(database_url))
    token = make_token(database, "admin")
    requests = [("/v1/groups", {"name": f"Team {n}"}) for n in range(GROUPS)] + [
        ("/v1/users", {"email": f"Agent{n}@business.io", "first_name": "A", "role": "agent"})
        for n in range(EMAILS)
    ]
    answers: dict[str, Counter[tuple[int, str | None]]] = defaultdict(Counter)
    lock = threading.Lock()
    start = threading.Barrier(SERVERS * CLIENTS_PER_SERVER)

    def client(url: str, seed: int) -> None:
        mine = list(requests)
        random.Random(seed).shuffle(mine)
        with httpx.Client(base_url=url, headers=auth(token), timeout=60) as http:
            start.wait()
            for path, body in mine:
                response = http.post(path, json=body)
                code = response.json().get("error", {}).get("code") if response.is_error else None
                key = str(body.get("email") or body.get("name")).lower()
                with lock:
                    answers[key][(response.status_code, code)] += 1

    env = {"CAREBASE_LOG_LEVEL": "WARNING"}
    with ExitStack() as stack:
        servers = [
            stack.enter_context(running_server(database_url, env=env)) for _ in range(SERVERS)
        ]
        threads = [
            threading.Thread(target=client, args=(server.url, number * 10 + index))
            for number, server in enumerate(servers)
            for index in range(CLIENTS_PER_SERVER)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

    attempts = SERVERS * CLIENTS_PER_SERVER
    assert len(answers) == EMAILS + GROUPS
    for key, counted in answers.items():
        assert counted == Counter({(201, None): 1, (409, "conflict"): attempts - 1}), key
    with database.engine.connect() as connection:
        users = connection.execute(text("SELECT count(*) FROM users")).scalar_one()
        groups = connection.execute(text("SELECT count(*) FROM groups")).scalar_one()
        links = connection.execute(text("SELECT count(*) FROM signin_links")).scalar_one()
    database.dispose()
    assert (users, groups, links) == (EMAILS, GROUPS, EMAILS)
