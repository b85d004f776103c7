"""Prometheus metrics of the kit: what an operator needs to see a service falling behind.

The rules in deploy/prometheus/rules and the dashboards in deploy/grafana read these names.
"""

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

from keel_kit.gc_tuning import GC_SECONDS, watch_collections

# Request durations from a cached read (a few ms) to the body limits' worst case (seconds).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class KitMetrics:
    """One registry per app, so several apps can live in one test process."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        # The process's CPU, memory, file descriptors, GC and Python version, as a default
        # registry would have them (they describe the process, so one registry may share them).
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR, GC_SECONDS):
            self.registry.register(collector)
        watch_collections()
        labels = {"service": service}
        self.http_requests = Counter(
            "keel_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "keel_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template (exemplars carry trace ids)",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.trace_sample_ratio = Gauge(
            "keel_trace_sample_ratio",
            "Share of new traces this process records (0 without an exporter: none)",
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "keel_outbox_backlog",
            "Outbox rows not yet published",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "keel_outbox_oldest_age_seconds",
            "Age of the oldest outbox row not yet published (0 when none waits), sampled",
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
        self.batch_records = Histogram(
            "keel_consumer_batch_records",
            "Records per batch the consumer fetched: small batches under load mean each "
            "message pays a transaction and an offset commit of its own",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "keel_consumer_lag",
            "Messages behind the partition's end: after each batch, and sampled from the "
            "broker's committed offsets, so a consumer that stopped still shows its lag",
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
