"""carebase: a self-hosted customer-service data platform."""

__version__ = "0.1.0"
