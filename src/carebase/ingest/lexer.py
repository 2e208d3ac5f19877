"""Kept for callers outside ingestion (connectors): Lexer's formats are in
`carebase.recordtypes`."""

from carebase.recordtypes.lexer import parse_timestamp

__all__ = ["parse_timestamp"]
