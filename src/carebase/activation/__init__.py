"""Activation: destinations, orchestrations that push segments and queries to them, and
their runs (diffed, rate-limited, with per-record results)."""
