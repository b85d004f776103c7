"""`keel bench`: orders through the intake at a fixed offered rate, and at saturation (or, with
`--hot-sku`, all for one SKU against too little stock), each followed to the end of its path.

First the ceilings of the machine's parts (`bench_ceilings`), so every figure stands beside
what the database and the broker can do on their own. Then the orders. The bench plays the
warehouses too (`bench_warehouse`): each shipment fulfillment creates is reported shipped, the
order service asks finance to capture the payment, and finance posts the sale to the journal,
the last event of an order's path.

Latencies come from the events themselves (`bench_clock`): each step's `occurred_at` (when
its service committed it), read straight from Kafka, minus the moment the intake answered 202.

Figures count only from a pipeline that drained: after each run the bench waits until every
accepted order has its sale posted (or was answered short of stock, which only a hot SKU
should see) and every consumer has caught up; a report whose runs did not get there says
`"complete": false` with the reasons, instead of passing for a measurement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from keel_cli import bench_ceilings, bench_hot_sku, bench_metrics
from keel_cli.bench_clock import CONFIRMED, CREATED, POSTED, SHIPPED, EventClock
from keel_cli.bench_load import Run, drive, order_body, order_client, seed_stock
from keel_cli.bench_report import cpu_between, cpu_ms_per_order, stamp
from keel_cli.bench_warehouse import Warehouse
from keel_cli.bench_windows import WINDOW_SECONDS, windows
from keel_cli.demo import catalog
from keel_cli.demo.shoppers import CHANNELS
from keel_cli.people import Staff
from keel_cli.stack import StackConfig
from keel_kit.stats import percentile

DRAIN_PATIENCE_SECONDS = 180.0


def summarise(run: Run, clock: EventClock) -> dict[str, Any]:
    def latencies(step: str) -> dict[str, float | int | None]:
        seen = clock.seen[step]
        values = sorted(seen[o] - t for o, t in run.accepted.items() if o in seen)
        return {
            "count": len(values),
            "p50_ms": _percentile_ms(values, 0.50),
            "p95_ms": _percentile_ms(values, 0.95),
            "p99_ms": _percentile_ms(values, 0.99),
        }

    steps = {"confirmed": CONFIRMED, "shipment_created": CREATED, "shipped": SHIPPED}
    return {
        "name": run.name,
        "offered_rate": run.offered_rate or "saturation",
        "duration_s": run.duration,
        "accepted": len(run.accepted),
        "refused": run.refused,
        "accepted_per_s": round(len(run.accepted) / run.duration, 1),
        "shipment_created_per_s": end_to_end_rate(run, clock, CREATED),
        "journal_posted_per_s": end_to_end_rate(run, clock, POSTED),
        "accept_to_confirmed": latencies(CONFIRMED),
        "accept_to_shipment_created": latencies(CREATED),
        "accept_to_journal_posted": latencies(POSTED),
        "per_window": {
            "window_s": WINDOW_SECONDS,
            "windows": windows(
                run.started_at or min(run.accepted.values(), default=0.0),
                run.duration,
                {
                    "accepted": run.accepted.values(),
                    **{kind: _times(run, clock, step) for kind, step in steps.items()},
                    "journal_posted": _times(run, clock, POSTED),
                },
            ),
        },
    }


def _times(run: Run, clock: EventClock, step: str) -> list[float]:
    """When the run's orders took `step`."""
    seen = clock.seen[step]
    return [seen[o] for o in run.accepted if o in seen]


def end_to_end_rate(run: Run, clock: EventClock, step: str) -> float | None:
    """Orders through to `step` per second, from the first acceptance to the last order that
    took it: what the whole pipeline sustained, whatever the intake accepted."""
    reached = _times(run, clock, step)
    if not reached:
        return None
    span = max(reached) - min(run.accepted.values())
    return round(len(reached) / span, 1) if span > 0 else None


def _percentile_ms(seconds: list[float], share: float) -> float | None:
    value = percentile(seconds, share)
    return None if value is None else round(value * 1000, 1)


async def run_bench(
    *,
    rate: float,
    duration: float,
    concurrency: int,
    batch: int,
    skus: int,
    hot_sku: bool,
    config: StackConfig,
    services: tuple[str, ...],
    on_phase: Callable[[str], None],
) -> dict[str, Any]:
    from keel_cli.machine import context_switches, describe, tree_cpu_seconds
    from keel_cli.runtime import processes

    state_dir = config.state_dir
    pids = {
        name: pid
        for name in (*services, "kafka", "postgres", "zipkin", "prometheus")
        if (pid := processes.read_pid(name, state_dir=state_dir)) is not None
    }
    ceilings = await bench_ceilings.measure(
        database=config.database,
        postgres_port=config.postgres_port,
        kafka=config.kafka,
        say=on_phase,
    )
    items, runs = await _catalog_and_runs(
        hot_sku=hot_sku, skus=skus, rate=rate, duration=duration, config=config, say=on_phase
    )
    tag = f"bench-{stamp()}"
    results = []
    # The channels sign their own orders, as marketplaces do; the warehouses' systems sign
    # their shipment reports.
    async with Staff(order_client, state_dir) as staff:
        channels = {c: await staff.partner("channel", c, "order") for c in CHANNELS}
        systems = {
            w: await staff.partner("warehouse", w, "fulfillment") for w, *_ in catalog.WAREHOUSES
        }
        warehouse = Warehouse(systems)
        clock = EventClock(config.kafka, on_created=warehouse.ship)
        await clock.start()
        warehouse.start()

        def cpu_now() -> dict[str, float]:
            spent = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
            return {**spent, "bench driver": time.process_time()}

        cpu_before = run_began = cpu_now()
        switches_began = context_switches()
        try:
            for run in runs:
                on_phase(
                    f"{run.name}: {run.offered_rate or 'as fast as possible'} orders/s "
                    f"for {duration:.0f}s"
                )
                orders = order_body(f"{tag}-{run.name[:3]}", items, batch)
                await drive(run, channels, orders, concurrency, batch)
                on_phase(f"{run.name}: waiting for the pipeline to drain to the journal")
                patience = max(DRAIN_PATIENCE_SECONDS, run.duration)
                drained = await _drain(run, clock, services, patience=patience)
                # Each run's own CPU, its drain included: per order at saturation, the path's
                # cost at full load; at a fixed rate, what that load costs.
                run_ended, switches_ended = cpu_now(), context_switches()
                cpu_of_run = cpu_between(run_began, run_ended)
                accepted = len(run.accepted)
                results.append(
                    {
                        **summarise(run, clock),
                        "drain": drained,
                        "cpu_seconds": cpu_of_run,
                        "cpu_ms_per_accepted_order": cpu_ms_per_order(cpu_of_run, accepted),
                        # Machine-wide: how often the processes took turns on the cores.
                        "context_switches_per_order": (
                            round((switches_ended - switches_began) / accepted, 1)
                            if accepted
                            else None
                        ),
                    }
                )
                run_began, switches_began = run_ended, switches_ended
            if hot_sku:
                totals = await bench_hot_sku.balances(items[0].sku, state_dir)
                results[0]["hot_sku"] = bench_hot_sku.summarise(runs[0], clock, items[0], totals)
        finally:
            await clock.stop()
            await warehouse.stop()
        cpu = cpu_between(cpu_before, cpu_now())
    reasons = incomplete_reasons({r["name"]: r["drain"] for r in results})
    if warehouse.not_reported:
        reasons.append(f"the warehouse could not report some shipments: {warehouse.not_reported}")
    return {
        "complete": not reasons,
        "incomplete_reasons": reasons,
        "machine": describe(),
        "at": datetime.now(UTC).isoformat(),
        "ceilings": ceilings,
        "trace_sample_ratio": await bench_metrics.trace_sample_ratios(services),
        "runs": results,
        "warehouse": warehouse.document(),
        "consumer_lag_at_end": await bench_metrics.lag(services),
        "orders_per_request": batch,
        "cpu_seconds": cpu,
        "cpu_ms_per_accepted_order": cpu_ms_per_order(cpu, sum(r["accepted"] for r in results)),
    }


async def _catalog_and_runs(
    *,
    hot_sku: bool,
    skus: int,
    rate: float,
    duration: float,
    config: StackConfig,
    say: Callable[[str], None],
) -> tuple[list[catalog.Item], list[Run]]:
    """What the orders will name, seeded now, and the runs to make of them."""
    if hot_sku:
        say(f"seeding one hot SKU: {bench_hot_sku.UNITS} units at {bench_hot_sku.LOCATION}")
        return [await bench_hot_sku.seed(config.state_dir)], [Run("hot sku", None, duration)]
    say(f"seeding {skus} SKUs")
    items = await seed_stock(skus, config.state_dir)
    return items, [Run("fixed rate", rate, duration), Run("saturation", None, duration)]


def drain_state(
    accepted: Iterable[str],
    posted: Mapping[str, float],
    short_of_stock: Mapping[str, str],
    lag: Mapping[str, float | None],
) -> dict[str, Any]:
    """Whether a run's pipeline drained: every accepted order has its sale posted, or was
    answered short of stock (backordered or rejected: no posting can come), and no consumer
    has messages left to read (`None`: the service's lag could not be read, which proves
    nothing, so it counts as not drained)."""
    orders = list(accepted)
    short = [short_of_stock[o] for o in orders if o not in posted and o in short_of_stock]
    without_posting = sum(1 for o in orders if o not in posted and o not in short_of_stock)
    lag_left = {service: left for service, left in lag.items() if left is None or left > 0}
    return {
        "complete": without_posting == 0 and not lag_left,
        "accepted": len(orders),
        "journal_posted": sum(1 for o in orders if o in posted),
        "short_of_stock": {a: short.count(a) for a in ("backordered", "rejected")},
        "orders_without_posting": without_posting,
        "consumer_lag_left": lag_left,
    }


def incomplete_reasons(drains: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Why a bench is not a valid measurement, one sentence per undrained run; empty if valid."""
    reasons = []
    for name, drain in drains.items():
        if drain["complete"]:
            continue
        problems = []
        if drain["orders_without_posting"]:
            problems.append(
                f"{drain['orders_without_posting']} of {drain['accepted']} accepted orders "
                "never reached their sale's journal posting"
            )
        if drain["consumer_lag_left"]:
            left = ", ".join(
                f"{service} {'unreadable' if n is None else int(n)}"
                for service, n in drain["consumer_lag_left"].items()
            )
            problems.append(f"consumer lag left: {left}")
        reasons.append(f"{name}: {'; '.join(problems) or 'did not drain'}")
    return reasons


def settled(run: Run, clock: EventClock) -> bool:
    """Whether every accepted order of the run is posted or short of stock."""
    posted, short = clock.seen[POSTED], clock.short_of_stock()
    return all(o in posted or o in short for o in run.accepted)


async def _drain(
    run: Run,
    clock: EventClock,
    services: tuple[str, ...],
    patience: float = DRAIN_PATIENCE_SECONDS,
    poll: float = 0.5,
) -> dict[str, Any]:
    """Wait until every accepted order is settled (posted, or short of stock) and every
    consumer has caught up (or `patience` runs out); returns the `drain_state` it ended in."""
    deadline = time.monotonic() + patience
    lag: dict[str, float | None] = {}
    while True:
        # Lag is read only once the orders are settled: before that the run is undrained
        # anyway, and six /metrics requests every poll would load the machine being measured.
        if settled(run, clock) or time.monotonic() >= deadline:
            lag = await bench_metrics.lag(services)
        # The clock fills these from Kafka while we poll.
        state = drain_state(run.accepted, clock.seen[POSTED], clock.short_of_stock(), lag)
        if state["complete"] or time.monotonic() >= deadline:
            return state
        await asyncio.sleep(poll)
