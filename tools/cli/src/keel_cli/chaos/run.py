"""One chaos run: load and faults, healing, then the verdict.

The verdict is `keel check` on the healed, quiet stack, plus what only the run knows: every
accepted order still exists, the intake refused nothing it should have taken, and the dead
letters written during the run are exactly the poison it sent, once per consumer group that
reads the poisoned topic, and nothing else.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from keel_cli import dlq, stack
from keel_cli.chaos import load
from keel_cli.chaos.inject import Injector, Poison
from keel_cli.chaos.schedule import Fault, draw
from keel_cli.check import CheckReport, consumed_topics, run_check
from keel_cli.demo import catalog, shoppers
from keel_cli.people import LEADERSHIP, OPERATIONS, WAREHOUSE, Staff
from keel_cli.runtime import kafka, postgres, processes
from keel_contracts import SERVICES, consumer_group
from keel_kit.kafka_access import KafkaAccess

CATALOG_SKUS = 40
REPLICATING = ("order", "fulfillment", "procurement", "returns", "finance")  # keep item copies
SETTLE_PATIENCE_SECONDS = 120.0
DeadLetterKey = tuple[str, str, int, int, str]  # group, original topic, partition, offset, key


@dataclass
class ChaosResult:
    seed: int
    duration: float
    database: str
    faults: list[Fault]
    fault_errors: list[str] = field(default_factory=list)
    traffic: load.Traffic = field(default_factory=load.Traffic)
    missing_orders: list[str] = field(default_factory=list)
    unexpected_dead_letters: list[str] = field(default_factory=list)
    poison_not_dead_lettered: list[str] = field(default_factory=list)
    check: CheckReport = field(default_factory=CheckReport)

    @property
    def violations(self) -> list[str]:
        found = [f"{v.source}: {v.invariant}: {v.detail}" for v in self.check.violations]
        found += [f"accepted order {o} is gone" for o in self.missing_orders]
        found += [f"the intake refused {r}" for r in self.traffic.refused]
        if self.traffic.gave_up:
            found.append(
                f"the intake never answered {self.traffic.gave_up} order(s) within "
                f"{load.PATIENCE_SECONDS:.0f}s"
            )
        found += [f"dead-lettered but not poison: {d}" for d in self.unexpected_dead_letters]
        found += [f"poison never dead-lettered: {p}" for p in self.poison_not_dead_lettered]
        found += [f"fault could not be injected: {e}" for e in self.fault_errors]
        return found

    def document(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "duration": self.duration,
            "database": self.database,
            "faults": [f.describe().strip() for f in self.faults],
            "faults_by_kind": dict(Counter(f.kind for f in self.faults)),
            "orders_offered": self.traffic.offered,
            "orders_accepted": len(self.traffic.accepted),
            "orders_given_up": self.traffic.gave_up,
            "final_statuses": dict(Counter(self.traffic.statuses.values())),
            "violations": self.violations,
            "warnings": [f"{w.source}: {w.detail}" for w in self.check.warnings],
            "ok": not self.violations,
        }


async def run_chaos(
    config: stack.StackConfig, *, seed: int, duration: float, rate: float, say: Any
) -> ChaosResult:
    """Run the seeded schedule against the running stack `config` describes."""
    faults = draw(seed, duration, postgres=config.database == "postgres")
    result = ChaosResult(seed, duration, config.database, faults)
    injector = Injector(config)
    rng = random.Random(seed)
    run = f"X{seed % 1000:03d}{int(time.time()) % 10000:04d}"
    async with Staff(_client, config.state_dir) as staff:
        # As in `keel demo`: operations registers the catalog and follows the orders, a
        # warehouse person receives the stock; the channels place their orders and the
        # warehouses' systems report their shipments, each signing its requests; the verdict
        # reads as leadership.
        order = staff.client(OPERATIONS, "order")
        items = catalog.items(run, CATALOG_SKUS, rng)
        say(f"seeding {CATALOG_SKUS} SKUs")
        await catalog.seed(
            staff.client(OPERATIONS, "inventory"),
            staff.client(WAREHOUSE, "inventory"),
            items,
            rng,
            units=(200, 400),
        )
        replicas = {s: staff.client(OPERATIONS, s) for s in REPLICATING}
        await catalog.wait_until_replicated(replicas, [i.sku for i in items])
        channels = {c: await staff.partner("channel", c, "order") for c in shoppers.CHANNELS}
        warehouses = load.Warehouses(
            staff.client(WAREHOUSE, "fulfillment"),
            {w: await staff.partner("warehouse", w, "fulfillment") for w, *_ in catalog.WAREHOUSES},
        )
        before = await _dead_letters(config.kafka)
        say(f"load at {rate:g} orders/s for {duration:g}s with {len(faults)} faults")
        shipping = asyncio.create_task(load.ship_orders(order, warehouses, result.traffic))
        injecting = [asyncio.create_task(_at(f, injector, result)) for f in faults]
        await load.offer_orders(
            channels, run, items, rng, rate=rate, duration=duration, traffic=result.traffic
        )
        await asyncio.gather(*injecting)
        say("healing: every component back, orders shipped")
        injector.resume_all()
        await asyncio.to_thread(_heal, config)
        shipping.cancel()
        await _settle(order, warehouses, result.traffic)
        result.missing_orders = await _missing(
            staff.client(LEADERSHIP, "order"), result.traffic.accepted
        )
    say("waiting for quiet, then checking every invariant")
    result.check = await run_check(
        {s: stack.url(s) for s in SERVICES}, config.kafka, quiet_timeout=180
    )
    after = await _dead_letters(config.kafka)
    _compare_dead_letters(result, injector.poison, after - before, after)
    return result


async def _at(fault: Fault, injector: Injector, result: ChaosResult) -> None:
    await asyncio.sleep(fault.at)
    try:
        await injector.apply(fault)
    except Exception as error:  # the run goes on; the result names it
        result.fault_errors.append(f"{fault.describe().strip()}: {error!r}")


def _heal(config: stack.StackConfig) -> None:
    """Start whatever is not running (a fault's restart may have failed), then wait."""
    kafka.start(config.state_dir, port=config.kafka_port)
    if config.database == "postgres":
        postgres.start(config.state_dir, port=config.postgres_port)
    for service in SERVICES:
        if not processes.is_running(service, state_dir=config.state_dir):
            stack.start_service(config, service)
    stack.wait_ready(timeout=180)


async def _settle(
    order: httpx.AsyncClient, warehouses: load.Warehouses, traffic: load.Traffic
) -> None:
    deadline = time.monotonic() + SETTLE_PATIENCE_SECONDS
    for _ in range(int(SETTLE_PATIENCE_SECONDS)):
        if not await load.ship_round(order, warehouses, traffic) or time.monotonic() > deadline:
            return
        await asyncio.sleep(1.0)


async def _missing(order: httpx.AsyncClient, accepted: list[str]) -> list[str]:
    missing = []
    for order_id in accepted:
        if (await order.get(f"/v1/orders/{order_id}")).status_code == 404:
            missing.append(order_id)
    return missing


async def _dead_letters(kafka: KafkaAccess) -> set[DeadLetterKey]:
    found: set[DeadLetterKey] = set()
    for group in dlq.groups():
        for letter in await dlq.read_all(kafka, group):
            partition = int(letter.headers.get("keel-original-partition", -1))
            offset = int(letter.headers.get("keel-original-offset", -1))
            found.add((group, letter.original_topic, partition, offset, letter.key))
    return found


def _compare_dead_letters(
    result: ChaosResult, poison: list[Poison], new: set[DeadLetterKey], every: set[DeadLetterKey]
) -> None:
    """Poison is known by its unique key (a retried send may have put it on the topic twice);
    every group that reads its topic must have dead-lettered it, and nothing else may be new."""
    expected = {
        (consumer_group(service), p.topic, p.key)
        for p in poison
        for service in SERVICES
        if p.topic in consumed_topics(service)
    }
    result.unexpected_dead_letters = [
        f"{group} {topic}[{partition}]@{offset} key {key}"
        for group, topic, partition, offset, key in sorted(new)
        if (group, topic, key) not in expected
    ]
    dead_lettered = {(group, topic, key) for group, topic, _, _, key in every}
    result.poison_not_dead_lettered = [
        f"{group} {topic} key {key}" for group, topic, key in sorted(expected - dead_lettered)
    ]


def _client(service: str, headers: Mapping[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stack.url(service), headers=headers, timeout=httpx.Timeout(30.0)
    )


def render(result: ChaosResult, console: Any) -> None:
    """Faults injected, orders accepted, violations: what `keel chaos` prints."""
    console.print(f"[bold]{len(result.faults)} faults injected (seed {result.seed})")
    for fault in result.faults:
        console.print(f"  {fault.describe()}")
    traffic = result.traffic
    console.print(
        f"orders offered {traffic.offered}, accepted {len(traffic.accepted)}, "
        f"given up {traffic.gave_up}; final statuses {dict(Counter(traffic.statuses.values()))}"
    )
    for warning in result.check.warnings:
        console.print(f"  [yellow]warning[/] {warning.source}: {warning.detail}")
    violations = result.violations
    for violation in violations:
        console.print(f"  [red]violation[/] {violation}")
    verdict = "[green]no violations[/]" if not violations else f"[red]{len(violations)} violations"
    console.print(f"{len(result.check.checked)} invariants checked: {verdict}")
