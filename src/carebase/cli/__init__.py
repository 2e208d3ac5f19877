"""The `carebase` command."""

from carebase.cli.main import app, main

__all__ = ["app", "main"]
