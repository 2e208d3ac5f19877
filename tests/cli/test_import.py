"""`carebase dataset create` and `carebase import`."""

from __future__ import annotations

from pathlib import Path

import orjson

from carebase.db.session import Database
from carebase.identity.links import Link
from carebase.models import utcnow
from carebase.profiles import service as profiles
from tests.cli.test_cli import invoke
from tests.conftest import test_settings
from tests.helpers import ticket

run = invoke


def create_dataset(database_url: str) -> str:
    code, stdout, stderr = run(
        database_url, "dataset", "create", "--type", "customer_support_ticket", "--name", "Zendesk"
    )
    assert code == 0, stderr
    dataset_id = stdout.strip().splitlines()[-1]
    assert dataset_id.startswith("ds_")
    return dataset_id


def test_import_ndjson_streams_batches_and_writes_rejects(
    database_url: str, tmp_path: Path
) -> None:
    dataset_id = create_dataset(database_url)
    path = tmp_path / "tickets.ndjson"
    with path.open("wb") as handle:
        for i in range(2_345):
            handle.write(orjson.dumps(ticket(str(i), link={"email": f"u{i % 100}@x.org"})) + b"\n")
        handle.write(b"\n{truncated\n")
        handle.write(orjson.dumps({"ticket_id": "no-rest"}) + b"\n")
    code, _, stderr = run(database_url, "import", str(path), "--dataset", dataset_id)
    assert code == 0, stderr
    assert "2347 records" in stderr
    assert "2345 created" in stderr
    assert "2 rejected" in stderr
    assert "3 batches" in stderr
    rejects = [
        orjson.loads(line) for line in (tmp_path / "tickets.ndjson.rejects.ndjson").open("rb")
    ]
    assert [(r["index"], r["line"]) for r in rejects] == [(2345, 2347), (2346, 2348)]
    assert rejects[0]["record"] == "{truncated"
    assert rejects[1]["record"] == {"ticket_id": "no-rest"}
    assert {e["field"] for e in rejects[1]["errors"]} == {"action_at", "link", "timeline"}

    database = Database.from_settings(test_settings(database_url))
    with database.unit_of_work(write=False) as session:
        view = profiles.read_by_link(session, Link("email", "u7@x.org"), tickets=0, now=utcnow())
    database.dispose()
    assert view.attributes["ticket_count"] == 24  # 2,345 tickets over 100 emails

    # Importing again changes nothing.
    code, _, stderr = run(database_url, "import", str(path), "--dataset", dataset_id)
    assert "2345 unchanged" in stderr


def test_import_json_array(database_url: str, tmp_path: Path) -> None:
    dataset_id = create_dataset(database_url)
    path = tmp_path / "tickets.json"
    path.write_bytes(b"\xef\xbb\xbf" + orjson.dumps([ticket(str(i)) for i in range(5)]))
    code, _, stderr = run(database_url, "import", str(path), "--dataset", dataset_id)
    assert code == 0, stderr
    assert "5 created" in stderr
    assert not (tmp_path / "tickets.json.rejects.ndjson").exists()


def test_import_reports_a_broken_json_array(database_url: str, tmp_path: Path) -> None:
    dataset_id = create_dataset(database_url)
    path = tmp_path / "broken.json"
    path.write_bytes(b'[{"ticket_id": "1"}, {oops')
    code, _, stderr = run(database_url, "import", str(path), "--dataset", dataset_id)
    assert code == 1
    assert "not a valid JSON array" in stderr
    assert "Traceback" not in stderr


def test_import_into_unknown_dataset_fails_cleanly(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "t.ndjson"
    path.write_bytes(orjson.dumps(ticket("1")) + b"\n")
    code, _, stderr = run(database_url, "import", str(path), "--dataset", "ds_missing")
    assert code == 1
    assert "No dataset" in stderr


def test_dataset_list_json(database_url: str) -> None:
    dataset_id = create_dataset(database_url)
    code, stdout, _ = run(database_url, "dataset", "list", "--json")
    assert code == 0
    assert [d["id"] for d in orjson.loads(stdout)] == [dataset_id]
