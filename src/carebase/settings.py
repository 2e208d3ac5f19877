"""Every CAREBASE_* setting, read once from the environment (and an optional `.env`)."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Refused when CAREBASE_ENV=production.
DEVELOPMENT_SECRET_KEY = "carebase-development-secret-key-do-not-use-in-production"  # noqa: S105
DEFAULT_DATA_DIR = Path(".carebase")

_RATE_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Environment(StrEnum):
    """Where carebase runs; `production` turns development conveniences into errors."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SqliteSynchronous(StrEnum):
    """SQLite's `PRAGMA synchronous` values that carebase accepts."""

    FULL = "FULL"
    NORMAL = "NORMAL"


class RateLimit:
    """`limit` requests per `period_seconds`, per token; `limit == 0` means unlimited."""

    __slots__ = ("limit", "period_seconds")

    def __init__(self, limit: int, period_seconds: int) -> None:
        self.limit = limit
        self.period_seconds = period_seconds

    @classmethod
    def parse(cls, spec: str) -> RateLimit:
        """Read `"100/5m"`, `"600/1m"`, `"10/s"` or `"unlimited"`."""
        text = spec.strip().lower()
        if text in {"unlimited", "0", "off"}:
            return cls(0, 1)
        match = _RATE_SPEC.match(text)
        if match is None:
            raise ValueError(
                f"rate limit {spec!r} is not of the form COUNT/PERIOD, e.g. '100/5m' or 'unlimited'"
            )
        count, multiplier, unit = match.groups()
        period = int(multiplier or "1") * _UNIT_SECONDS[unit]
        if period <= 0:
            raise ValueError(f"rate limit {spec!r} has an empty period")
        return cls(int(count), period)

    @property
    def unlimited(self) -> bool:
        """True when no limit applies."""
        return self.limit == 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RateLimit):
            return NotImplemented
        return (self.limit, self.period_seconds) == (other.limit, other.period_seconds)

    def __hash__(self) -> int:
        return hash((self.limit, self.period_seconds))

    def __repr__(self) -> str:
        return f"RateLimit({self.limit}/{self.period_seconds}s)"


# The Activity API documents 100 requests per 5 minutes per token; the other
# defaults leave room for a helpdesk backfill and an agent UI at full speed.
DEFAULT_RATE_LIMITS: dict[str, str] = {
    "admin": "600/1m",
    "ingest": "1200/1m",
    "profiles:read": "6000/1m",
    "activity:read": "100/5m",
    "notes:write": "600/1m",
    "segments:read": "600/1m",
    "segments:write": "120/1m",
    # Each query may run up to its deadline: a low limit keeps one token from filling the
    # database with slow reads.
    "query:run": "60/1m",
    "query:write": "120/1m",
    # Runs follow their progress by polling: reads are cheap and frequent.
    "activation:read": "600/1m",
    "activation:write": "120/1m",
    "inbox:read": "1200/1m",
    "inbox:write": "600/1m",
}


# Values that identify nobody: a link carrying one of them links nothing.
DEFAULT_BLOCKED_LINK_VALUES: tuple[str, ...] = (
    "",
    "null",
    "none",
    "nil",
    "undefined",
    "unknown",
    "n/a",
    "na",
    "-",
    "0",
    "test@test.com",
    "test@example.com",
    "email@example.com",
    "noemail@noemail.com",
    "no@email.com",
    "none@none.com",
)


class Settings(BaseSettings):
    """carebase configuration; each field is the environment variable CAREBASE_<NAME>."""

    model_config = SettingsConfigDict(
        env_prefix="CAREBASE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development, test or production; production refuses unsafe defaults.",
    )
    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR / 'carebase.db'}",
        description="SQLAlchemy URL: sqlite:///path/to/file.db or postgresql+psycopg://user:pw@host/db.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET_KEY),
        description="Key for encrypting stored credentials; at least 32 characters in production.",
    )
    host: str = Field(default="127.0.0.1", description="Address `carebase serve` binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `carebase serve` binds to.")
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes for `serve`.")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: str = Field(default="text", description="text (human) or json (one per line).")
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted; larger ones answer 413.",
    )
    sqlite_synchronous: SqliteSynchronous = Field(
        default=SqliteSynchronous.FULL,
        description=(
            "FULL: a 2xx answer is on disk. NORMAL: faster; a power cut may lose the last commits."
        ),
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    db_pool_size: int = Field(default=10, ge=1, description="Connections kept per process.")
    max_in_flight: int = Field(
        default=0,
        ge=0,
        description=(
            "Requests one process works on at once (0: CAREBASE_DB_POOL_SIZE); more wait "
            "in a queue."
        ),
    )
    queue_timeout_ms: int = Field(
        default=2000,
        ge=0,
        description="How long a request waits in that queue before it answers 503 overloaded.",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a client may take to send a request's headers (then 408).",
    )
    min_body_rate: int = Field(
        default=1024,
        ge=1,
        description=(
            "Bytes per second a request body must average once CAREBASE_BODY_GRACE_SECONDS "
            "have passed (then 408)."
        ),
    )
    body_grace_seconds: float = Field(
        default=10.0, gt=0, description="How long a body may arrive at any pace at first."
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Open client connections one process keeps; more answer 503 overloaded.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply pending migrations when the server starts."
    )
    rate_limits: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='Per-scope overrides as JSON or "scope=COUNT/PERIOD,…", e.g. ingest=1200/1m.',
    )

    default_phone_region: str | None = Field(
        default=None,
        description=(
            "ISO 3166 region for mobiles written without a country code (e.g. AU, US); "
            "unset: such numbers are read as international digits."
        ),
    )
    allow_private_outbound: bool = Field(
        default=False,
        description=(
            "Let connectors call helpdesk APIs on private, loopback or link-local addresses "
            "(for a helpdesk fake or proxy on your own network). Off: such addresses are refused."
        ),
    )
    webhook_rate_limit: str = Field(
        default="3000/1m",
        description="Webhook calls accepted per connector (COUNT/PERIOD or unlimited).",
    )
    webhook_tolerance_seconds: int = Field(
        default=300,
        ge=10,
        le=86_400,
        description="How old a signed webhook's timestamp may be (either way) and still verify.",
    )
    in_process_worker: bool = Field(
        default=True,
        description=(
            "Run jobs (webhook deliveries, …) inside `carebase serve`. Turn off when separate "
            "`carebase worker` processes run them."
        ),
    )
    worker_threads: int = Field(
        default=2, ge=1, le=64, description="Jobs one worker process runs at once."
    )
    job_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often an idle worker looks for jobs queued by other processes.",
    )
    job_lease_seconds: float = Field(
        default=60.0,
        ge=0.5,
        le=3600,
        description=(
            "How long a claimed job stays a worker's without a heartbeat; a crashed worker's "
            "job runs again after this."
        ),
    )
    query_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="How long one SQL query (POST /v1/query) may run before it is stopped.",
    )
    activation_query_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description=(
            "How long reading an orchestration's saved query may run (the same read-only "
            "gate and engine enforcement as POST /v1/query, without its row cap)."
        ),
    )
    activation_run_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="How many days finished orchestration runs (and their records) are kept.",
    )
    blocked_link_values: Annotated[tuple[str, ...], NoDecode] = Field(
        default=DEFAULT_BLOCKED_LINK_VALUES,
        description="Comma-separated link values that never link anything (case-insensitive).",
    )
    max_emails_per_profile: int = Field(
        default=10, ge=1, description="A merge or link that would exceed this is stopped."
    )
    max_mobiles_per_profile: int = Field(
        default=10, ge=1, description="A merge or link that would exceed this is stopped."
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "The URL people reach carebase at (https://care.example.com), for the links it "
            "prints; unset: http://CAREBASE_HOST:CAREBASE_PORT."
        ),
    )
    session_idle_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 31,
        description="A console session unused this long ends; the user signs in again.",
    )
    session_max_days: float = Field(
        default=7.0,
        gt=0,
        le=366,
        description="A console session ends this long after sign-in, however much it is used.",
    )
    signin_account_limit: str = Field(
        default="5/15m",
        description="Failed sign-ins allowed per account (COUNT/PERIOD); more answer 429.",
    )
    signin_ip_limit: str = Field(
        default="50/15m",
        description="Failed sign-ins allowed per client address (COUNT/PERIOD); more answer 429.",
    )
    report_time_zone: str = Field(
        default="UTC",
        max_length=64,
        description=(
            "IANA time zone the Activity reports' days and hours follow (e.g. Australia/Sydney); "
            "a request's `time_zone` overrides it."
        ),
    )
    export_link_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 86_400,
        description="How long an Activity CSV export's signed download URL works.",
    )
    export_retention_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 90,
        description="How long a finished Activity CSV export is kept before it is deleted.",
    )
    zendesk_audience: str | None = Field(
        default=None,
        description=(
            "The `aud` claim of the JWT Zendesk posts to the embed for this app installation "
            "(e.g. https://acme.zendesk.com/api/v2/apps/installations/360001.json); unset: "
            "the Zendesk embed is off."
        ),
    )
    zendesk_public_key: str | None = Field(
        default=None,
        description=(
            "The Zendesk app's RSA public key (2048 bits or more) that signs that JWT: the PEM "
            "text, or the path of a .pem file."
        ),
    )
    zendesk_issuer: str | None = Field(
        default=None,
        description="When set, the `iss` claim that JWT must carry (e.g. acme.zendesk.com).",
    )
    chatwoot_origin: str | None = Field(
        default=None,
        description=(
            "The Chatwoot dashboard's origin (https://chat.brand.io): the only sender whose "
            "appContext the Chatwoot embed reads; unset: the Chatwoot embed is off."
        ),
    )
    event_window_days: int = Field(
        default=120,
        ge=1,
        le=3660,
        description=(
            "How far back (days) segment event conditions and event search reach; a "
            "condition asking for a longer window is refused."
        ),
    )
    embed_frame_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description=(
            "More origins that may frame the embed (comma-separated), beyond the Zendesk and "
            "Chatwoot ones derived from the settings above: e.g. a host-mapped Zendesk domain."
        ),
    )

    @field_validator("report_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone (e.g. Australia/Sydney)"
            ) from None
        return value

    @field_validator("default_phone_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (e.g. AU, US, GB)")
        return region

    @field_validator("blocked_link_values", mode="before")
    @classmethod
    def _split_blocked(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip().lower() for item in value.split(","))
        if isinstance(value, list | tuple):
            return tuple(str(item).strip().lower() for item in value)
        return value

    # rate_limit_for's parsed policies, by scope (filled on first use).
    _policies: dict[str, RateLimit] = PrivateAttr(default_factory=dict)

    @field_validator("webhook_rate_limit", "signin_account_limit", "signin_ip_limit")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        RateLimit.parse(value)
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = urlsplit(value.strip())
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise ValueError(
                "must be an absolute http:// or https:// URL, e.g. https://care.example.com"
            )
        if url.query or url.fragment:
            raise ValueError("must not hold a query or a fragment")
        return urlunsplit((url.scheme, url.netloc, url.path.rstrip("/"), "", ""))

    @field_validator("zendesk_audience", "zendesk_issuer")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        text = value.strip()
        if any(char.isspace() or ord(char) < 0x20 for char in text):
            raise ValueError("must be one value without spaces or control characters")
        return text

    @field_validator("zendesk_public_key")
    @classmethod
    def _rsa_public_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return read_rsa_public_key(value)

    @field_validator("chatwoot_origin")
    @classmethod
    def _an_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return web_origin(value)

    @field_validator("embed_frame_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [item for item in value.split(",") if item.strip()]
        if isinstance(value, list | tuple):
            return tuple(dict.fromkeys(web_origin(str(item)) for item in value))
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        if value not in {"text", "json"}:
            raise ValueError("must be text or json")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver carebase ships; spell it out so SQLAlchemy picks it.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if not (value.startswith("sqlite:///") or value.startswith("postgresql+psycopg://")):
            raise ValueError("must start with sqlite:/// or postgresql:// (postgresql+psycopg://)")
        if value.startswith("sqlite:///:memory:") or value == "sqlite://":
            raise ValueError("in-memory SQLite cannot be shared between connections; use a file")
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _parse_rate_limits(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return {}
            if text.startswith("{"):
                import json

                return json.loads(text)
            pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError('must be JSON or "scope=COUNT/PERIOD,scope=COUNT/PERIOD"')
            return {key.strip(): spec.strip() for key, spec in pairs}
        return value

    @field_validator("rate_limits")
    @classmethod
    def _valid_rate_limits(cls, value: dict[str, str]) -> dict[str, str]:
        for scope, spec in value.items():
            if scope not in DEFAULT_RATE_LIMITS:
                known = ", ".join(DEFAULT_RATE_LIMITS)
                raise ValueError(f"unknown scope {scope!r} (rate limits apply to: {known})")
            RateLimit.parse(spec)
        return value

    @model_validator(mode="after")
    def _zendesk_complete(self) -> Self:
        if (self.zendesk_audience is None) != (self.zendesk_public_key is None):
            raise ValueError(
                "CAREBASE_ZENDESK_AUDIENCE and CAREBASE_ZENDESK_PUBLIC_KEY go together: "
                "set both to turn the Zendesk embed on, or neither"
            )
        if self.zendesk_audience is not None and not (
            self.zendesk_origins or self.embed_frame_origins
        ):
            raise ValueError(
                "cannot tell which Zendesk address frames the app from CAREBASE_ZENDESK_AUDIENCE: "
                "set CAREBASE_ZENDESK_ISSUER (acme.zendesk.com) or CAREBASE_EMBED_FRAME_ORIGINS "
                "(https://acme.zendesk.com)"
            )
        return self

    @model_validator(mode="after")
    def _safe_in_production(self) -> Self:
        if self.env is Environment.PRODUCTION:
            key = self.secret_key.get_secret_value()
            if key == DEVELOPMENT_SECRET_KEY:
                raise ValueError(
                    "CAREBASE_SECRET_KEY must be set in production "
                    "(the development default is refused)"
                )
            if len(key) < 32:
                raise ValueError("CAREBASE_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None on PostgreSQL."""
        if not self.is_sqlite:
            return None
        return Path(self.database_url.removeprefix("sqlite:///").split("?", 1)[0])

    @property
    def in_flight_limit(self) -> int:
        """Requests one process works on at once: each can hold a pooled connection."""
        return self.max_in_flight or self.db_pool_size

    @property
    def base_url(self) -> str:
        """Where people reach carebase, without a trailing slash: CAREBASE_PUBLIC_URL, or
        the address `carebase serve` binds to."""
        return self.public_url or f"http://{display_host(self.host)}:{self.port}"

    @property
    def zendesk_origins(self) -> tuple[str, ...]:
        """The Zendesk agent pages that frame the app: the origin of the audience when it is
        an https URL, and of the issuer (`acme.zendesk.com` → `https://acme.zendesk.com`)."""
        found = []
        for value in (self.zendesk_audience, self.zendesk_issuer):
            if value is None:
                continue
            url = urlsplit(value if "://" in value else f"https://{value}")
            if url.scheme == "https" and url.hostname and "." in url.hostname:
                found.append(web_origin(f"https://{url.netloc}"))
        return tuple(dict.fromkeys(found))

    @property
    def embed_frame_ancestors(self) -> tuple[str, ...]:
        """Every origin that may frame the embed pages: Zendesk's, Chatwoot's and the extra
        ones; empty when no helpdesk is configured."""
        origins = [*self.zendesk_origins]
        if self.chatwoot_origin is not None:
            origins.append(self.chatwoot_origin)
        origins.extend(self.embed_frame_origins)
        return tuple(dict.fromkeys(origins))

    def rate_limit_for(self, scope_name: str) -> RateLimit:
        """The policy that applies to requests needing `scope_name`."""
        # Asked on every authenticated request; the settings are frozen, so parse once.
        policy = self._policies.get(scope_name)
        if policy is None:
            spec = self.rate_limits.get(scope_name) or DEFAULT_RATE_LIMITS.get(scope_name)
            policy = RateLimit.parse(spec) if spec else RateLimit(0, 1)
            self._policies[scope_name] = policy
        return policy


def display_host(host: str) -> str:
    """The host to print in a URL for a bind address (a wildcard bind is reached locally)."""
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - a display value, not a bind
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def web_origin(value: str) -> str:
    """`scheme://host[:port]`, lower-cased, from a URL with nothing after the host (a trailing
    slash is allowed); ValueError otherwise."""
    text = value.strip().rstrip("/")
    url = urlsplit(text)
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise ValueError(f"{value!r} is not an origin such as https://chat.brand.io")
    if url.path or url.query or url.fragment or "@" in url.netloc:
        raise ValueError(f"{value!r} must be an origin only: scheme and host, no path")
    try:
        port = url.port
    except ValueError as error:
        raise ValueError(f"{value!r} has a bad port") from error
    host = url.hostname.lower()
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}[url.scheme]
    return f"{url.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def read_rsa_public_key(value: str) -> str:
    """An RSA public key as PEM text, from PEM text (literal `\\n` accepted, as an environment
    variable may carry it) or the path of a PEM file; ValueError unless it is RSA of 2048 bits
    or more."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = value.replace("\\n", "\n").strip()
    if not text.startswith("-----BEGIN"):
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(
                f"is neither PEM text nor a readable PEM file ({path}): {error}"
            ) from error
    try:
        key = load_pem_public_key(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise ValueError("is not a PEM public key (-----BEGIN PUBLIC KEY-----)") from error
    if not isinstance(key, RSAPublicKey):
        raise ValueError("must be an RSA public key (Zendesk signs with RS256)")
    if key.key_size < 2048:
        raise ValueError(f"is an RSA key of {key.key_size} bits; at least 2048 are needed")
    return text + "\n"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
