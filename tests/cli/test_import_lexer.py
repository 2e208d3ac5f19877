"""`carebase import` of Lexer record types: NDJSON examples and CSV with nested columns."""

from __future__ import annotations

from pathlib import Path

import orjson

from carebase.db.session import Database
from carebase.identity.links import Link
from carebase.models import utcnow
from carebase.profiles import service as profiles
from tests.cli.test_cli import invoke
from tests.conftest import test_settings

EXAMPLES = Path(__file__).parents[1] / "ingest" / "lexer_examples"


def create_dataset(database_url: str, record_type: str) -> str:
    code, stdout, stderr = invoke(
        database_url, "dataset", "create", "--type", record_type, "--name", record_type
    )
    assert code == 0, stderr
    return stdout.strip().splitlines()[-1]


def read_jane(database_url: str) -> profiles.ProfileView:
    database = Database.from_settings(test_settings(database_url))
    with database.unit_of_work(write=False) as session:
        view = profiles.read_by_link(
            session, Link("email", "jane@fake.com"), tickets=0, now=utcnow()
        )
    database.dispose()
    return view


def test_import_lexer_examples_as_ndjson(database_url: str) -> None:
    for record_type in ("customer_record", "purchase", "email_open"):
        dataset_id = create_dataset(database_url, record_type)
        path = EXAMPLES / f"{record_type}.ndjson"
        code, _, stderr = invoke(database_url, "import", str(path), "--dataset", dataset_id)
        assert code == 0, stderr
        assert "0 rejected" in stderr
    view = read_jane(database_url)
    assert view.customer["first_name"] == "Jane"
    assert view.commerce["order_count"] == 2
    assert view.engagement["emails_opened"] == 1


def test_import_csv_nests_dotted_columns_and_types_cells(database_url: str, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_bytes(
        b"\xef\xbb\xbf"  # a spreadsheet's byte-order mark
        b"link.email,first_name,employee_flag,date_of_birth,"
        b"custom_fields.loyalty_points:integer,custom_fields.note\r\n"
        b'jane@fake.com,Jane,no,1990-01-02,120,"likes knits, wool"\r\n'
        b"not-an-email,Bob,maybe,1990-13-01,,\r\n"
        b",,,,,\r\n"
    )
    dataset_id = create_dataset(database_url, "customer_record")
    code, _, stderr = invoke(database_url, "import", str(customers), "--dataset", dataset_id)
    assert code == 0, stderr
    assert "1 created" in stderr
    assert "1 rejected" in stderr
    [reject] = [orjson.loads(line) for line in (tmp_path / "customers.csv.rejects.ndjson").open()]
    assert reject["line"] == 3
    assert {error["field"] for error in reject["errors"]} == {
        "link",
        "employee_flag",
        "date_of_birth",
    }

    orders = tmp_path / "orders.csv"
    orders.write_text(
        "link.email,action_at,purchase_id,type,currency,"
        "products.0.price_paid,products.0.quantity,products[1].price_paid,products[1].quantity,"
        "payment_types\n"
        'jane@fake.com,2024-01-01T00:00:00Z,o-1,ecommerce,AUD,10.5,1,5,2,"[{""name"": ""visa""}]"\n'
    )
    dataset_id = create_dataset(database_url, "purchase")
    code, _, stderr = invoke(database_url, "import", str(orders), "--dataset", dataset_id)
    assert code == 0, stderr
    assert "1 created" in stderr
    view = read_jane(database_url)
    assert view.customer["employee_flag"] is False
    assert view.customer["custom_fields"] == {"loyalty_points": 120, "note": "likes knits, wool"}
    assert view.commerce["total_spend"] == {"AUD": 15.5}


def test_import_csv_that_is_not_utf8_fails_cleanly(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("link.email,first_name\njane@fake.com,Jos\xe9\n".encode("latin-1"))
    dataset_id = create_dataset(database_url, "customer_record")
    code, _, stderr = invoke(database_url, "import", str(path), "--dataset", dataset_id)
    assert code == 1
    assert "cannot be read as CSV" in stderr
    assert "Traceback" not in stderr
