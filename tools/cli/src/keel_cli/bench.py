"""`keel bench`: orders through the intake at a fixed offered rate, and at saturation.

Latencies come from the events themselves: an order's `order.confirmed` and its first
`shipment.created` carry `occurred_at` (when the service committed them), read straight from
Kafka by a consumer outside every group, minus the moment the intake answered 202.

Figures count only from a pipeline that drained: after each run the bench waits for every
accepted order to reach a shipment and every consumer to catch up, and a report whose runs did
not get there says `"complete": false` with the reasons, instead of passing for a measurement.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from keel_cli import stack
from keel_cli.bench_load import Run, drive, order_body, order_client, seed_stock
from keel_cli.demo.shoppers import CHANNELS
from keel_cli.people import Staff
from keel_contracts import Envelope
from keel_kit.kafka_access import KafkaAccess
from keel_kit.stats import percentile
from keel_kit.topic_reader import partitions_of

WATCHED = {"orders.order.v1": "order.confirmed", "fulfillment.shipment.v1": "shipment.created"}


class EventClock:
    """Remembers when each watched event happened, per order, as the services stamped it."""

    def __init__(self, kafka: KafkaAccess) -> None:
        self.kafka = kafka
        self.seen: dict[str, dict[str, float]] = {t: {} for t in WATCHED.values()}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(**self.kafka.client_options(), enable_auto_commit=False)
        await consumer.start()
        assigned = [
            TopicPartition(t, p) for t in WATCHED for p in await partitions_of(self.kafka, t)
        ]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        self._consumer = consumer
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batches.values():
                for record in records:
                    envelope = Envelope.from_bytes(record.value)
                    if envelope.type in self.seen:
                        order_id = envelope.payload["order_id"]
                        self.seen[envelope.type].setdefault(
                            order_id, envelope.occurred_at.timestamp()
                        )

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()


def summarise(run: Run, clock: EventClock) -> dict[str, Any]:
    def latencies(event_type: str) -> dict[str, float | int | None]:
        seen = clock.seen[event_type]
        values = sorted(seen[o] - t for o, t in run.accepted.items() if o in seen)
        return {
            "count": len(values),
            "p50_ms": _percentile_ms(values, 0.50),
            "p95_ms": _percentile_ms(values, 0.95),
            "p99_ms": _percentile_ms(values, 0.99),
        }

    return {
        "name": run.name,
        "offered_rate": run.offered_rate or "saturation",
        "duration_s": run.duration,
        "accepted": len(run.accepted),
        "refused": run.refused,
        "accepted_per_s": round(len(run.accepted) / run.duration, 1),
        "shipment_created_per_s": _end_to_end_rate(run, clock),
        "accept_to_confirmed": latencies("order.confirmed"),
        "accept_to_shipment_created": latencies("shipment.created"),
    }


def _end_to_end_rate(run: Run, clock: EventClock) -> float | None:
    """Orders through to a shipment per second, from the first acceptance to the last shipment:
    what the whole pipeline sustained, whatever the intake accepted."""
    shipped = [
        clock.seen["shipment.created"][o]
        for o in run.accepted
        if o in clock.seen["shipment.created"]
    ]
    if not shipped:
        return None
    span = max(shipped) - min(run.accepted.values())
    return round(len(shipped) / span, 1) if span > 0 else None


def _percentile_ms(seconds: list[float], share: float) -> float | None:
    value = percentile(seconds, share)
    return None if value is None else round(value * 1000, 1)


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, default=str)


async def run_bench(
    *,
    rate: float,
    duration: float,
    concurrency: int,
    batch: int,
    skus: int,
    kafka: KafkaAccess,
    state_dir: Path,
    services: tuple[str, ...],
    on_phase: Callable[[str], None],
) -> dict[str, Any]:
    from keel_cli.machine import describe, tree_cpu_seconds
    from keel_cli.runtime import processes

    pids = {
        name: pid
        for name in (*services, "kafka", "postgres", "zipkin", "prometheus")
        if (pid := processes.read_pid(name, state_dir=state_dir)) is not None
    }
    on_phase(f"seeding {skus} SKUs")
    items = await seed_stock(skus, state_dir)
    clock = EventClock(kafka)
    await clock.start()
    cpu_before = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    driver_before = time.process_time()
    tag = f"bench-{stamp()}"
    runs = [Run("fixed rate", rate, duration), Run("saturation", None, duration)]
    results = []
    try:
        # The channels sign their own orders, as marketplaces do.
        async with Staff(order_client, state_dir) as staff:
            channels = {c: await staff.partner("channel", c, "order") for c in CHANNELS}
            for run in runs:
                on_phase(
                    f"{run.name}: {run.offered_rate or 'as fast as possible'} orders/s "
                    f"for {duration:.0f}s"
                )
                orders = order_body(f"{tag}-{run.name[:3]}", items, batch)
                await drive(run, channels, orders, concurrency, batch)
                on_phase(f"{run.name}: waiting for the pipeline to drain")
                drained = await _drain(run, clock, services)
                results.append({**summarise(run, clock), "drain": drained})
    finally:
        await clock.stop()
    reasons = incomplete_reasons({r["name"]: r["drain"] for r in results})
    return {
        "complete": not reasons,
        "incomplete_reasons": reasons,
        "machine": describe(),
        "at": datetime.now(UTC).isoformat(),
        "runs": results,
        "consumer_lag_at_end": await _lag(services),
        "orders_per_request": batch,
        "cpu_seconds": {
            **{
                name: round(tree_cpu_seconds(pid) - cpu_before[name], 1)
                for name, pid in pids.items()
            },
            "bench driver": round(time.process_time() - driver_before, 1),
        },
    }


def drain_state(
    accepted: Iterable[str], shipped: Collection[str], lag: Mapping[str, float | None]
) -> dict[str, Any]:
    """Whether a run's pipeline drained: every accepted order reached a shipment and no
    consumer has messages left to read (`None`: the service's lag could not be read, which
    proves nothing, so it counts as not drained)."""
    orders = list(accepted)
    without_shipment = sum(1 for o in orders if o not in shipped)
    lag_left = {service: left for service, left in lag.items() if left is None or left > 0}
    return {
        "complete": without_shipment == 0 and not lag_left,
        "accepted": len(orders),
        "orders_without_shipment": without_shipment,
        "consumer_lag_left": lag_left,
    }


def incomplete_reasons(drains: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Why a bench is not a valid measurement, one sentence per undrained run; empty if valid."""
    reasons = []
    for name, drain in drains.items():
        if drain["complete"]:
            continue
        problems = []
        if drain["orders_without_shipment"]:
            problems.append(
                f"{drain['orders_without_shipment']} of {drain['accepted']} accepted orders "
                "never reached a shipment"
            )
        if drain["consumer_lag_left"]:
            left = ", ".join(
                f"{service} {'unreadable' if n is None else int(n)}"
                for service, n in drain["consumer_lag_left"].items()
            )
            problems.append(f"consumer lag left: {left}")
        reasons.append(f"{name}: {'; '.join(problems) or 'did not drain'}")
    return reasons


async def _drain(
    run: Run,
    clock: EventClock,
    services: tuple[str, ...],
    patience: float = 180.0,
    poll: float = 0.5,
) -> dict[str, Any]:
    """Wait until every accepted order has its shipment and every consumer has caught up (or
    `patience` runs out); returns the `drain_state` it ended in."""
    shipped = clock.seen["shipment.created"]  # filled from Kafka by the clock while we poll
    deadline = time.monotonic() + patience
    lag: dict[str, float | None] = {}
    while True:
        # Lag is read only once shipments are in: before that the run is undrained anyway,
        # and six /metrics requests every poll would load the machine being measured.
        if all(o in shipped for o in run.accepted) or time.monotonic() >= deadline:
            lag = await _lag(services)
        state = drain_state(run.accepted, shipped, lag)
        if state["complete"] or time.monotonic() >= deadline:
            return state
        await asyncio.sleep(poll)


async def _lag(services: tuple[str, ...]) -> dict[str, float | None]:
    """Messages each service's consumers have yet to read (None: its /metrics did not answer)."""
    lag: dict[str, float | None] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for service in services:
            try:
                response = await client.get(f"{stack.url(service)}/metrics")
                response.raise_for_status()
            except httpx.HTTPError:
                lag[service] = None
                continue
            lag[service] = sum(
                float(line.rsplit(" ", 1)[1])
                for line in response.text.splitlines()
                if line.startswith("keel_consumer_lag{")
            )
    return lag
