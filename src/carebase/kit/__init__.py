"""Shared building blocks: outbound pacing, the durable job runner."""
