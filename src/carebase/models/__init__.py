"""Every ORM table, importable from one place (Alembic reads `Base.metadata`)."""

from carebase.models.activation import (
    ActivationState,
    Destination,
    Orchestration,
    OrchestrationRun,
    RunItem,
)
from carebase.models.auth import ApiToken, RateLimitCounter
from carebase.models.base import Base, UTCDateTime, utcnow
from carebase.models.connectors import Connector, WebhookDelivery
from carebase.models.identity import (
    LockKey,
    MergeBlock,
    Profile,
    ProfileLink,
    ProfileMerge,
    Suppression,
)
from carebase.models.ingest import Dataset, IngestionLog
from carebase.models.jobs import Job, PacingSlot
from carebase.models.notes import Note
from carebase.models.profiles import (
    CommerceAttributes,
    CustomerAttributes,
    EngagementAttributes,
    SupportAttributes,
)
from carebase.models.queries import SavedQuery
from carebase.models.records import CatalogItem, CustomerRecord, Event, Ticket
from carebase.models.segments import Segment, SegmentMember, SegmentVersion
from carebase.models.users import Group, GroupMember, SigninLink, User, UserSession

__all__ = [
    "ActivationState",
    "ApiToken",
    "Base",
    "CatalogItem",
    "CommerceAttributes",
    "Connector",
    "CustomerAttributes",
    "CustomerRecord",
    "Dataset",
    "Destination",
    "EngagementAttributes",
    "Event",
    "Group",
    "GroupMember",
    "IngestionLog",
    "Job",
    "LockKey",
    "MergeBlock",
    "Note",
    "Orchestration",
    "OrchestrationRun",
    "PacingSlot",
    "Profile",
    "ProfileLink",
    "ProfileMerge",
    "RateLimitCounter",
    "RunItem",
    "SavedQuery",
    "Segment",
    "SegmentMember",
    "SegmentVersion",
    "SigninLink",
    "SupportAttributes",
    "Suppression",
    "Ticket",
    "UTCDateTime",
    "User",
    "UserSession",
    "WebhookDelivery",
    "utcnow",
]
