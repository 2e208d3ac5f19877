"""Every ORM table, importable from one place (Alembic reads `Base.metadata`)."""

from carebase.models.auth import ApiToken, RateLimitCounter
from carebase.models.base import Base, UTCDateTime, utcnow

__all__ = ["ApiToken", "Base", "RateLimitCounter", "UTCDateTime", "utcnow"]
