"""Settings shared by every service; each service subclasses with its own env prefix and port."""

from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from keel_contracts import ServiceName
from keel_kit.kafka_access import KafkaAccess

# Never `none`, never a shared secret: anyone holding the public keys could forge those.
ASYMMETRIC_ALGORITHMS = ("EdDSA", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384")


class ServiceSettings(BaseSettings):
    """Base settings. Shared infrastructure (broker, state folder) uses unprefixed KEEL_ names so
    one variable points every service at the same broker; the rest takes the service's prefix."""

    model_config = SettingsConfigDict(env_prefix="KEEL_SERVICE_", populate_by_name=True)

    service: ClassVar[ServiceName]

    host: str = "127.0.0.1"
    port: int = 8100
    database_url: str = Field(
        default="", description="SQLAlchemy async URL; empty means a SQLite file in state_dir"
    )
    state_dir: Path = Field(
        default=Path(".keel"), validation_alias=AliasChoices("KEEL_STATE_DIR", "state_dir")
    )
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KEEL_KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"),
    )
    kafka_password: SecretStr | None = Field(
        default=None,
        description="this service's SASL/SCRAM-SHA-512 password on a secured broker; unset: "
        "the broker takes clients without a login (the local default)",
    )
    kafka_username: str | None = Field(
        default=None, description="the login's name; the service's own name when unset"
    )
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
    )
    zipkin_endpoint: str | None = Field(
        default=None,
        description="a Zipkin v2 spans endpoint to export to (`keel up` sets its own Zipkin's)",
        validation_alias=AliasChoices("KEEL_ZIPKIN_ENDPOINT", "zipkin_endpoint"),
    )
    trace_file: Path | None = Field(
        default=None,
        description="append finished spans as JSON lines here (local debugging and tests)",
        validation_alias=AliasChoices("KEEL_TRACE_FILE", "trace_file"),
    )
    trace_sample_ratio: float = Field(
        # Production's default: recording every span costs about a third of the throughput
        # (bench/README.md); `keel up`, a developer's stack, records them all.
        default=0.01,
        ge=0,
        le=1,
        description="share of new traces recorded when an exporter is set (the rest propagate "
        "their trace id unrecorded); a trace started elsewhere follows its caller's choice",
        validation_alias=AliasChoices("KEEL_TRACE_SAMPLE_RATIO", "trace_sample_ratio"),
    )
    metrics_sample_seconds: float = Field(
        default=15.0,
        gt=0,
        description="how often the gauges of state (outbox age, consumer lag from the broker, "
        "business gauges) are read; Prometheus scrapes every 15 s",
    )
    auth_issuer: str = Field(
        default="keel-local",
        description="the `iss` every token must carry: the stack's own, or the company's OIDC "
        "issuer in production",
        validation_alias=AliasChoices("KEEL_AUTH_ISSUER", "auth_issuer"),
    )
    auth_audience: str = Field(
        default="keel",
        validation_alias=AliasChoices("KEEL_AUTH_AUDIENCE", "auth_audience"),
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="the issuer's public keys (OIDC `jwks_uri`); empty: the stack's own keys, "
        "`auth/jwks.json` in the state folder",
        validation_alias=AliasChoices("KEEL_AUTH_JWKS_URL", "auth_jwks_url"),
    )
    auth_algorithms: tuple[str, ...] = Field(
        default=("EdDSA", "RS256"),
        description="the only signature algorithms accepted (asymmetric ones only)",
        validation_alias=AliasChoices("KEEL_AUTH_ALGORITHMS", "auth_algorithms"),
    )
    auth_role_claim: str = Field(
        default="role",
        description="the claim holding the Keel role(s), a dotted path for nested claims "
        "(`realm_access.roles` on Keycloak, `roles` on Entra ID)",
        validation_alias=AliasChoices("KEEL_AUTH_ROLE_CLAIM", "auth_role_claim"),
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="largest request body accepted; a bigger one is a 413 stating the limit",
    )
    max_batch_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="largest body of a batch route (a path ending in /batch), 413 above",
    )
    rate_limit_per_second: float = Field(
        default=1000.0,
        gt=0,
        description="requests a caller (one principal) may send each second, per replica",
    )
    rate_limit_burst: int = Field(
        default=2000, ge=1, description="requests a caller may send at once after a quiet spell"
    )
    consumer_batch_size: int = Field(default=500, ge=1, le=5000)
    consumer_max_poll_interval_seconds: float = Field(
        default=300,
        ge=5,
        description="a consumer that has not asked for records this long (a batch stuck on a "
        "lock, say) leaves its group, and its partitions go to another member",
        validation_alias=AliasChoices(
            "KEEL_CONSUMER_MAX_POLL_INTERVAL_SECONDS", "consumer_max_poll_interval_seconds"
        ),
    )
    consumer_max_attempts: int = Field(default=5, ge=1)
    retry_backoff_seconds: float = Field(default=0.2, gt=0)
    stall_alarm_seconds: float = Field(
        default=300,
        gt=0,
        description="a partition whose batches keep failing this long raises an alarm",
    )
    relay_batch_size: int = Field(default=1000, ge=1, le=10_000)
    fault_kill_before_offset_commit: bool = Field(
        default=False,
        description="tests only: SIGKILL the process after a batch commits, before its offsets",
        validation_alias=AliasChoices(
            "KEEL_FAULT_KILL_BEFORE_OFFSET_COMMIT", "fault_kill_before_offset_commit"
        ),
    )

    @property
    def consumer_group(self) -> str:
        return f"{self.service}-service"

    def kafka_access(self) -> KafkaAccess:
        """The broker's address, with this service's login when it has one."""
        if self.kafka_password is None:
            return KafkaAccess(self.kafka_bootstrap_servers)
        return KafkaAccess(
            self.kafka_bootstrap_servers,
            username=self.kafka_username or self.service,
            password=self.kafka_password.get_secret_value(),
        )

    @property
    def auth_folder(self) -> Path:
        """The local stack's keys (see `keel_kit.signing`)."""
        return self.state_dir / "auth"

    @field_validator("auth_algorithms")
    @classmethod
    def _asymmetric_only(cls, algorithms: tuple[str, ...]) -> tuple[str, ...]:
        refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(f"accept only asymmetric algorithms {ASYMMETRIC_ALGORITHMS}")
        return algorithms

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded default: a SQLite file per service."""
        if self.database_url:
            return self.database_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.state_dir.resolve() / (self.service + '.db')}"
