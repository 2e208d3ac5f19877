"""Every kind of destination, in one registry: the API's validation, the console's forms, the
CLI, the docs and the run engine all derive from it."""

from __future__ import annotations

from carebase.activation import sftp, webhook, zendesk
from carebase.activation.channel import DestinationKind

KINDS: dict[str, DestinationKind] = {
    kind.name: kind for kind in (zendesk.KIND, sftp.KIND, webhook.KIND)
}
