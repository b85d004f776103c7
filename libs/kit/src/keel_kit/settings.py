"""Settings shared by every service; each service subclasses with its own env prefix and port."""

from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from keel_contracts import ServiceName


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
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
    )
    trace_file: Path | None = Field(
        default=None,
        description="append finished spans as JSON lines here (local debugging and tests)",
        validation_alias=AliasChoices("KEEL_TRACE_FILE", "trace_file"),
    )
    trace_sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="share of new traces recorded when an exporter is set (the rest propagate "
        "their trace id unrecorded); a trace started elsewhere follows its caller's choice",
        validation_alias=AliasChoices("KEEL_TRACE_SAMPLE_RATIO", "trace_sample_ratio"),
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="largest request body accepted; a bigger one is a 413 stating the limit",
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

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded default: a SQLite file per service."""
        if self.database_url:
            return self.database_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.state_dir.resolve() / (self.service + '.db')}"
