"""Every list of record types, and every per-type behaviour, derives from the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from fastapi import FastAPI

from carebase import recordtypes
from carebase.attributes.service import FAMILIES
from carebase.datasets import service as datasets
from carebase.datasets.schemas import DatasetCreate, RecordType
from carebase.ingest import api, pipeline
from carebase.profiles import history
from carebase.recordtypes import docs

NAMES = tuple(recordtypes.REGISTRY)
DOC = Path(__file__).resolve().parents[2] / "docs" / "record-types-registry.md"


def _openapi() -> dict[str, Any]:
    app = FastAPI()
    app.include_router(api.router)
    spec = app.openapi()
    spec["components"]["schemas"].update(api.batch_components())
    return spec


def test_the_dataset_api_enum_is_the_registry() -> None:
    assert get_args(RecordType) == NAMES
    assert datasets.RECORD_TYPES == NAMES
    schema = DatasetCreate.model_json_schema()
    assert tuple(schema["properties"]["record_type"]["enum"]) == NAMES


def test_one_ingestion_route_per_registered_type_with_its_schema() -> None:
    spec = _openapi()
    routes = [
        path.rsplit("/", 1)[1]
        for path, item in spec["paths"].items()
        if path.startswith("/v1/datasets/{dataset_id}/") and "post" in item
    ]
    assert tuple(routes) == NAMES
    enum = spec["components"]["schemas"]["DatasetCreate"]["properties"]["record_type"]["enum"]
    assert tuple(enum) == NAMES
    for name in NAMES:
        operation = spec["paths"][f"/v1/datasets/{{dataset_id}}/{name}"]["post"]
        assert operation["operationId"] == recordtypes.get(name).operation
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == recordtypes.get(name).openapi()[0]
        assert set(recordtypes.get(name).openapi()[1]) <= set(spec["components"]["schemas"])


def test_attribute_families_and_history_are_the_registrys() -> None:
    # profiles/ keeps its own tuples until it reads types_feeding(); they must agree.
    for family in FAMILIES:
        assert family.record_types == recordtypes.types_feeding(family.name)
    assert recordtypes.types_feeding("support") == ("customer_support_ticket",)
    assert recordtypes.types_feeding("customer") == ("customer_record",)
    assert recordtypes.in_history() == history.HISTORY_TYPES


def test_history_lines_are_the_registrys() -> None:
    expected = {
        "purchase": (
            {
                "purchase_id": "P1",
                "currency": "aud",
                "type": "online",
                "products": [{"quantity": 2, "price_paid": 30.5}],
            },
            "Purchase P1 — 2 items, 30.50 AUD (online)",
        ),
        "return": (
            {"return_id": "R1", "products": [{"quantity": -1, "price_paid": -10}]},
            "Return R1 — 1 item, 10.00",
        ),
        "email_open": ({"subject": "Spring sale"}, "Email opened: Spring sale"),
        "email_click": (
            {"campaign_id": "c1", "clicked_link": {"url": "https://x.example"}},
            "Email link clicked: c1 → https://x.example",
        ),
        "email_subscribe": (
            {"status": "subscribed", "list": {"name": "News"}},
            "Email subscription: subscribed (News)",
        ),
        "sms_subscribe": ({"status": "unsubscribed"}, "SMS subscription: unsubscribed"),
        "sms_send": ({}, "SMS sent"),
    }
    for name, (record, text) in expected.items():
        line = recordtypes.get(name).history_line
        assert line is not None
        assert line({"record": record}) == text


def test_every_type_parses_through_the_one_pipeline() -> None:
    for name in NAMES:
        assert recordtypes.get(name).name == name
        prepared = pipeline.prepare(name, [[]], config=_config())
        assert [r.index for r in prepared.rejections] == [0]


def test_the_docs_table_is_generated_from_the_registry() -> None:
    assert docs.table() in DOC.read_text()


def _config() -> pipeline.IngestConfig:
    from carebase.settings import Settings

    return pipeline.IngestConfig.from_settings(Settings())
