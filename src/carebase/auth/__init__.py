"""API tokens, scopes and per-token rate limits."""
