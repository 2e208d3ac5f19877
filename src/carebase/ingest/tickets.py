"""Kept for callers outside ingestion (connectors): the ticket format is
`carebase.recordtypes.tickets`."""

from carebase.recordtypes.tickets import RECORD_TYPE

__all__ = ["RECORD_TYPE"]
