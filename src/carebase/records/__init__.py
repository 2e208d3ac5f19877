"""Stored records, one module per record type (support tickets first)."""
