"""`carebase serve` with its in-process worker off leaves jobs queued; a separate
`carebase worker` process runs them."""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx

from carebase.db.session import Database
from tests.conftest import make_token
from tests.connectors import fakes
from tests.connectors.conftest import connect
from tests.helpers import auth
from tests.serverproc import running_server, running_worker, stop

ENV = {
    "CAREBASE_IN_PROCESS_WORKER": "false",
    "CAREBASE_ALLOW_PRIVATE_OUTBOUND": "true",
    "CAREBASE_JOB_POLL_SECONDS": "0.2",
    "CAREBASE_LOG_LEVEL": "WARNING",
}


def deliveries(client: httpx.Client, token: str, connector_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/connectors/{connector_id}/deliveries", headers=auth(token))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


def test_a_worker_process_runs_the_deliveries_a_server_without_one_queued(
    database: Database, database_url: str
) -> None:
    token = make_token(database, "admin")
    with (
        fakes.serve(fakes.gorgias({9001: fakes.gorgias_ticket(9001)})) as fake,
        running_server(database_url, env=ENV) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        assert any("carebase worker" in line for line in server.stdout)
        connector = connect(client, token, "gorgias", fake.url)  # type: ignore[arg-type]
        response = client.post(
            f"/v1/connectors/{connector.id}/webhook",
            json={"ticket_id": 9001},
            headers={"X-Carebase-Webhook-Secret": str(connector.secret)},
        )
        assert response.status_code == 202, response.text
        time.sleep(1.0)
        [queued] = client.get("/v1/jobs", headers=auth(token)).json()["items"]
        assert (queued["kind"], queued["status"]) == ("webhook_delivery", "queued")
        assert queued["payload"] == {"delivery_id": response.json()["delivery_id"]}
        assert [d["status"] for d in deliveries(client, token, connector.id)] == ["pending"]
        assert fake.requests == [], "the server itself does not process deliveries"

        with running_worker(database_url, env=ENV) as worker:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if [d["status"] for d in deliveries(client, token, connector.id)] == ["done"]:
                    break
                time.sleep(0.1)
            job = client.get(f"/v1/jobs/{queued['id']}", headers=auth(token)).json()
            stop(worker, signal.SIGTERM)
        assert worker.process.returncode == 0, "\n".join(worker.stderr)
        # The delivery, and the inbox's periodic sweeps (S10) that a worker schedules itself.
        [summary] = [line for line in worker.stderr if line.startswith("stopped: ")]
        assert ", 0 retried, 0 failed," in summary, summary
        jobs = client.get("/v1/jobs", headers=auth(token)).json()["items"]
        assert {j["kind"] for j in jobs if j["status"] == "succeeded"} >= {"webhook_delivery"}
        assert not [j for j in jobs if j["status"] in ("failed", "retrying")], jobs
        assert [d["status"] for d in deliveries(client, token, connector.id)] == ["done"]
        assert job["status"] == "succeeded"
        assert job["attempts"] == 1
        assert f":{worker.process.pid}:" in job["lease_owner"]
        assert job["result"]["delivery"] == "done"
        tickets = client.get(f"/v1/datasets/{connector.dataset_id}", headers=auth(token))
        assert tickets.json()["records"] == 1
