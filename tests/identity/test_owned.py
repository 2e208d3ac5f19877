"""Every table keyed to a profile is handled by merges and forgets, explicitly."""

from __future__ import annotations

from sqlalchemy import Table

from carebase.identity.owned import IDENTITY_TABLES, OWNED
from carebase.models.base import Base


def _keyed_to_a_profile(table: Table) -> bool:
    return any(
        foreign_key.column.table.name == "profiles"
        for column in table.columns
        for foreign_key in column.foreign_keys
    ) or any(column.name == "profile_id" for column in table.columns)


def test_every_profile_keyed_table_is_moved_or_dropped_on_merge_and_removed_on_forget() -> None:
    listed = {owned.table.name for owned in OWNED}
    keyed = {t.name for t in Base.metadata.sorted_tables if _keyed_to_a_profile(t)}
    missing = keyed - listed - IDENTITY_TABLES
    assert not missing, (
        f"tables keyed to a profile but not in identity.owned.OWNED: {sorted(missing)} — "
        "say whether a merge moves or drops their rows (a forget deletes them)"
    )
    assert listed <= keyed, "OWNED lists a table that is not keyed to a profile"


def test_records_move_and_derived_rows_drop() -> None:
    rules = {owned.table.name: owned.on_merge for owned in OWNED}
    assert rules["tickets"] == rules["events"] == rules["customer_records"] == "move"
    assert all(rule == "drop" for name, rule in rules.items() if name.endswith("_attributes"))
