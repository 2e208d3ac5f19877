"""Every ORM table, importable from one place (Alembic reads `Base.metadata`)."""

from carebase.models.activation import (
    ActivationState,
    Destination,
    Orchestration,
    OrchestrationRun,
    RunItem,
)
from carebase.models.activity import ActivityExport, ActivityExportChunk
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
from carebase.models.inbox import (
    AgentPresence,
    BusinessHours,
    Case,
    Classification,
    Form,
    FormInvitation,
    FormResponse,
    IgnoredSender,
    InboxRule,
    InboxSettings,
    Mention,
    MentionClassification,
    MentionEvent,
    MessageTemplate,
    Queue,
    Response,
    SlaPolicy,
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
    "ActivityExport",
    "ActivityExportChunk",
    "AgentPresence",
    "ApiToken",
    "Base",
    "BusinessHours",
    "Case",
    "CatalogItem",
    "Classification",
    "CommerceAttributes",
    "Connector",
    "CustomerAttributes",
    "CustomerRecord",
    "Dataset",
    "Destination",
    "EngagementAttributes",
    "Event",
    "Form",
    "FormInvitation",
    "FormResponse",
    "Group",
    "GroupMember",
    "IgnoredSender",
    "InboxRule",
    "InboxSettings",
    "IngestionLog",
    "Job",
    "LockKey",
    "Mention",
    "MentionClassification",
    "MentionEvent",
    "MergeBlock",
    "MessageTemplate",
    "Note",
    "Orchestration",
    "OrchestrationRun",
    "PacingSlot",
    "Profile",
    "ProfileLink",
    "ProfileMerge",
    "Queue",
    "RateLimitCounter",
    "Response",
    "RunItem",
    "SavedQuery",
    "Segment",
    "SegmentMember",
    "SegmentVersion",
    "SigninLink",
    "SlaPolicy",
    "SupportAttributes",
    "Suppression",
    "Ticket",
    "UTCDateTime",
    "User",
    "UserSession",
    "WebhookDelivery",
    "utcnow",
]
