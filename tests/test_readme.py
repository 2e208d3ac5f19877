"""The README documents what the code does: every record type and every profile attribute."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from carebase.datasets.schemas import RecordType
from carebase.datasets.service import RECORD_TYPES
from carebase.profiles.schemas import CommerceOut, CustomerOut, EngagementOut, HistoryItemOut

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_record_type_is_documented() -> None:
    missing = [name for name in RECORD_TYPES if f"`{name}`" not in README]
    assert missing == []


def test_every_profile_attribute_and_history_field_is_documented() -> None:
    for model in (CustomerOut, CommerceOut, EngagementOut, HistoryItemOut):
        missing = [name for name in model.model_fields if f"`{name}`" not in README]
        assert missing == [], f"{model.__name__}: {missing}"


def test_the_dataset_api_offers_every_record_type() -> None:
    assert get_args(RecordType) == RECORD_TYPES
