"""Reservations under concurrency: two inventory replicas on one PostgreSQL database consume
reservation commands from all partitions at once, and never hold more than is in stock."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter

import asyncpg
import pytest

from keel_contracts import Envelope
from keel_contracts.commands import ReserveStock
from keel_contracts.events import ChannelRegistered
from keel_contracts.values import Line
from keel_kit.testing import check_findings
from keel_kit.topic_reader import read_topic
from tests.conftest import Infra
from tests.integration.support import (
    ServiceProcess,
    StartService,
    eventually,
    new_sku,
    produce_many,
    stock,
)

pytestmark = pytest.mark.integration

COMMANDS = "inventory.commands.v1"
CHANNELS = "orders.channel.v1"
FEED = "inventory.availability.v1"
ANSWERS = "inventory.reservation.v1"


def _two_replicas(start_service: StartService) -> tuple[ServiceProcess, ServiceProcess]:
    first = start_service("inventory")
    second = start_service("inventory", database_url=first.env["KEEL_INVENTORY_DATABASE_URL"])

    def partitions(replica: ServiceProcess) -> float:
        return replica.metric("keel_consumer_partitions", topic=COMMANDS)

    eventually(
        lambda: partitions(first) > 0 and partitions(second) > 0,
        what="both replicas to own command partitions",
    )
    return first, second


def _consumed(replica: ServiceProcess) -> float:
    return replica.metric("keel_messages_consumed_total", topic=COMMANDS)


def _command(order_id: str, lines: dict[str, int], channel: str = "web") -> tuple[str, bytes]:
    command = ReserveStock(
        order_id=order_id,
        channel=channel,
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines.items()),
    )
    return order_id, Envelope.wrap(command, source="order", correlation_id=order_id).to_bytes()


def _answers(infra: Infra, orders: set[str]) -> list[Envelope]:
    """Every answer on the reservation topic for `orders` (other tests' answers share it)."""
    envelopes = [
        Envelope.from_bytes(r.value) for r in asyncio.run(read_topic(infra.kafka, ANSWERS))
    ]
    return [e for e in envelopes if e.payload.get("order_id") in orders]


def _all_answered(infra: Infra, orders: set[str]) -> list[Envelope] | None:
    answers = _answers(infra, orders)
    return answers if len({e.payload["order_id"] for e in answers}) == len(orders) else None


def _latest_availability(infra: Infra, sku: str) -> dict[str, int] | None:
    """The free units and the market's on the latest `availability.changed` of `sku`."""
    published = [
        Envelope.from_bytes(r.value).payload
        for r in asyncio.run(read_topic(infra.kafka, FEED))
        if r.key == sku.encode()
    ]
    if not published:
        return None
    latest = published[-1]
    return {"available_to_sell": latest["available_to_sell"], **latest["channels"]}


def _reserved_by_location(answers: list[Envelope], sku: str) -> Counter[str]:
    held: Counter[str] = Counter()
    for envelope in answers:
        for allocation in envelope.payload.get("allocations", []):
            if allocation["sku"] == sku:
                held[allocation["location_id"]] += allocation["quantity"]
    return held


def _deadlocks(inventory: ServiceProcess) -> int:
    """Deadlocks PostgreSQL has detected in the replicas' database."""

    async def count() -> int:
        dsn = inventory.env["KEEL_INVENTORY_DATABASE_URL"].replace("+asyncpg", "")
        connection = await asyncpg.connect(dsn)
        try:
            query = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
            return int(await connection.fetchval(query))
        finally:
            await connection.close()

    return asyncio.run(count())


def _assert_clean(inventory: ServiceProcess) -> None:
    invariants = inventory.get("/v1/invariants").json()
    assert invariants["ledger_matches_balances"] is True, invariants
    assert (invariants["oversold_locations"], invariants["oversold_units"]) == (0, 0), invariants
    # `keel check`'s invariants too, what each channel holds among them.
    assert check_findings(inventory.get("/v1/checks").json()) == {}


def test_two_replicas_hold_exactly_the_stock_there_is(
    infra: Infra, start_service: StartService
) -> None:
    first, second = _two_replicas(start_service)
    sku = new_sku()
    stock(first, sku, {"WH-EAST": 60, "WH-WEST": 40})
    orders = [f"ORD-{uuid.uuid4()}" for _ in range(300)]
    # Beside them, a marketplace may hold 30% of another SKU's 100 units: 60 of its one-unit
    # orders, mixed in, confirm exactly 30 however the replicas share them.
    capped = new_sku()
    stock(first, capped, {"WH-EAST": 100})
    announced = ChannelRegistered(channel_id="market", name="Market", market_country="US")
    envelope = Envelope.wrap(announced, source="order", correlation_id="market")
    asyncio.run(produce_many(infra.bootstrap, CHANNELS, [("market", envelope.to_bytes())]))

    def cap_set() -> bool:
        rule = first.put(f"/v1/allocations/market/{capped}", {"cap_percent": 30})
        assert rule.status_code in (200, 404), rule.text  # 404 until the channel is known
        return rule.status_code == 200

    eventually(cap_set, what="inventory to know the market channel and take its cap")
    market = [f"MKT-{uuid.uuid4()}" for _ in range(60)]
    commands = [_command(o, {sku: 1}) for o in orders]
    commands += [_command(o, {capped: 1}, channel="market") for o in market]
    random.Random(7).shuffle(commands)

    asyncio.run(produce_many(infra.bootstrap, COMMANDS, commands))

    answers = eventually(
        lambda: _all_answered(infra, set(orders)), timeout=120, what="an answer for every order"
    )
    market_answers = eventually(
        lambda: _all_answered(infra, set(market)), what="an answer for every marketplace order"
    )
    assert Counter(e.type for e in market_answers) == {
        "stock.reserved": 30,
        "stock.reservation_failed": 30,
    }
    for_market = first.get(f"/v1/availability/{capped}", channel="market").json()
    assert (for_market["available_to_sell"], for_market["channel"]["held"]) == (0, 30)
    assert first.get(f"/v1/availability/{capped}", channel="web").json()["available_to_sell"] == 70
    # The feed tells the marketplace it may sell no more of it.
    eventually(
        lambda: _latest_availability(infra, capped) == {"available_to_sell": 70, "market": 0},
        what="the availability feed to publish what the market may sell",
    )
    assert len(answers) == 300  # one answer per order, none twice
    assert Counter(e.type for e in answers) == {
        "stock.reserved": 100,
        "stock.reservation_failed": 200,
    }
    assert _reserved_by_location(answers, sku) == {"WH-EAST": 60, "WH-WEST": 40}
    # A replica counts a batch once it has committed, and its relay may publish the answers
    # before the consumer has counted them: wait for each replica's own count.
    eventually(
        lambda: _consumed(first) > 0 and _consumed(second) > 0,
        what="both replicas to count the commands they consumed",
    )
    for replica in (first, second):
        assert replica.metric("keel_dead_letters_total") == 0
    locations = first.get(f"/v1/availability/{sku}").json()["locations"]
    assert sum(loc["reserved"] for loc in locations) == 100
    assert sum(loc["sellable"] for loc in locations) == 100
    assert all(loc["reserved"] <= loc["sellable"] for loc in locations)
    _assert_clean(second)


def test_orders_crossing_many_skus_are_all_answered_without_oversell(
    infra: Infra, start_service: StartService
) -> None:
    """Multi-line orders in every SKU order: each replica's batch transaction locks many SKUs,
    in an order no single message controls. Nothing may deadlock into a dead letter."""
    first, second = _two_replicas(start_service)
    skus = [new_sku() for _ in range(6)]
    for sku in skus:
        stock(first, sku, {"WH-EAST": 40, "WH-WEST": 30})
    rng = random.Random(7)
    orders = {
        f"ORD-{uuid.uuid4()}": {sku: rng.randint(1, 2) for sku in rng.sample(skus, 3)}
        for _ in range(400)
    }

    asyncio.run(
        produce_many(infra.bootstrap, COMMANDS, [_command(o, lines) for o, lines in orders.items()])
    )

    answers = eventually(
        lambda: _all_answered(infra, set(orders)), timeout=180, what="an answer for every order"
    )
    assert len(answers) == len(orders)
    reserved = [e for e in answers if e.type == "stock.reserved"]
    assert reserved, "some orders must have been covered"
    assert len(reserved) < len(orders), "the stock is meant to run out"
    for envelope in reserved:
        held = Counter[str]()
        for allocation in envelope.payload["allocations"]:
            held[allocation["sku"]] += allocation["quantity"]
        assert held == orders[envelope.payload["order_id"]]
    for sku in skus:
        locations = first.get(f"/v1/availability/{sku}").json()["locations"]
        by_location = {loc["location_id"]: loc["reserved"] for loc in locations if loc["reserved"]}
        assert by_location == _reserved_by_location(reserved, sku)
        assert all(loc["reserved"] <= loc["sellable"] for loc in locations)
    for replica in (first, second):
        assert replica.metric("keel_dead_letters_total") == 0
    assert _deadlocks(first) == 0
    _assert_clean(first)
