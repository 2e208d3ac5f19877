"""Computed attributes, the Profile Read API and forgetting."""
