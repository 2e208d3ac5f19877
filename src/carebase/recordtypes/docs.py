"""The record-type table of the docs, generated from the registry."""

from __future__ import annotations

from carebase.recordtypes import REGISTRY


def table() -> str:
    """A Markdown table: type, what it is, natural-key field, storage rule, families fed."""
    lines = [
        "| Record type | What it is | Id field | Storage rule | Feeds | In history |",
        "|---|---|---|---|---|---|",
    ]
    for name, record_type in REGISTRY.items():
        lines.append(
            f"| `{name}` | {record_type.summary} | {record_type.id_field or '—'} "
            f"| {record_type.storage.replace('_', ' ')} | {', '.join(record_type.feeds) or '—'} "
            f"| {'yes' if record_type.history_line else 'no'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(table(), end="")
