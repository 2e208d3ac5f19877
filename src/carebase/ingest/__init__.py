"""One pipeline for every record type (decode, validate, suppress, resolve, store, refresh
attributes, log) and bulk file import (NDJSON, JSON, CSV)."""
