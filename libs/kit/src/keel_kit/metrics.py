"""Prometheus metrics of the kit: what an operator needs to see a service falling behind."""

from prometheus_client import CollectorRegistry, Counter, Gauge


class KitMetrics:
    """One registry per app, so several apps can live in one test process."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        self.outbox_backlog = Gauge(
            "keel_outbox_backlog",
            "Outbox rows not yet published",
            registry=self.registry,
        )
        self.outbox_published = Counter(
            "keel_outbox_published",
            "Messages the relay published",
            ["topic"],
            registry=self.registry,
        )
        self.relay_errors = Counter(
            "keel_relay_errors",
            "Relay batches that failed and will be retried",
            registry=self.registry,
        )
        self.outbox_parked = Gauge(
            "keel_outbox_parked",
            "Outbox rows the broker can never accept, parked until an operator replays them",
            registry=self.registry,
        )
        self.relay_leader = Gauge(
            "keel_relay_leader",
            "1 while this replica's relay holds the relay lock and publishes, else 0",
            registry=self.registry,
        )
        self.consumed = Counter(
            "keel_messages_consumed",
            "Messages applied by this service's consumer",
            ["topic"],
            registry=self.registry,
        )
        self.duplicates = Counter(
            "keel_messages_duplicate",
            "Messages skipped because the inbox had already seen them",
            ["topic"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "keel_dead_letters",
            "Messages sent to the dead-letter topic",
            ["topic"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "keel_consumer_lag",
            "Messages behind the partition's high watermark after the last batch",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.assigned_partitions = Gauge(
            "keel_consumer_partitions",
            "Partitions currently assigned to this replica",
            ["topic"],
            registry=self.registry,
        )
        self.partition_stalled = Gauge(
            "keel_partition_stalled_seconds",
            "Seconds since this partition's batches started failing (0 once one is applied)",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.offsets_skipped = Counter(
            "keel_consumer_offsets_skipped",
            "Offsets a consumer went past because its position was no longer on the log: "
            "records deleted unread (retention), or a log that lost what it had",
            ["topic", "partition", "why"],
            registry=self.registry,
        )
        self.batch_retries = Counter(
            "keel_consumer_batch_retries",
            "Consumer batches retried after a transient failure",
            registry=self.registry,
        )
        self.info = Gauge(
            "keel_service_info",
            "Constant 1, labelled with the service",
            list(labels),
            registry=self.registry,
        )
        self.info.labels(**labels).set(1)
