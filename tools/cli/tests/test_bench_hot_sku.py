"""`--hot-sku`: oversold units read two ways, and a verdict that says plainly what was found."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel_cli import bench_hot_sku
from keel_cli.bench_clock import RESERVED, EventClock, Reservation
from keel_cli.bench_hot_sku import oversold_by_balances, oversold_by_events, summarise, verdict
from keel_cli.bench_load import Run
from keel_cli.demo.catalog import WAREHOUSES, Item
from keel_kit.kafka_access import KafkaAccess

pytestmark = pytest.mark.unit

UNITS = bench_hot_sku.UNITS


def test_stock_all_shipped_or_reserved_within_the_receipt_is_not_oversold() -> None:
    # 1,500 shipped (sellable down to 500), the last 500 reserved.
    assert oversold_by_balances({"sellable": 500, "reserved": 500}, UNITS) == 0


def test_more_reserved_than_sellable_is_oversold_by_the_difference() -> None:
    assert oversold_by_balances({"sellable": 500, "reserved": 530}, UNITS) == 30


def test_sellable_below_zero_after_shipping_is_oversold() -> None:
    assert oversold_by_balances({"sellable": -4, "reserved": 0}, UNITS) == 4


def test_reservation_events_holding_more_than_received_are_oversold() -> None:
    assert oversold_by_events(UNITS + 7, UNITS) == 7
    assert oversold_by_events(UNITS, UNITS) == 0


def test_the_verdict_shouts_an_oversell() -> None:
    assert verdict(3, 0, stock_ran_out=True).startswith("OVERSOLD: 3 units")


def test_the_verdict_says_when_the_race_was_not_run() -> None:
    said = verdict(0, 0, stock_ran_out=False)
    assert said.startswith("0 units oversold, but the stock never ran out")


def test_the_verdict_says_zero_plainly_when_the_stock_ran_out() -> None:
    said = verdict(0, 0, stock_ran_out=True)
    assert said == "0 units oversold: the stock ran out and no unit was promised twice"


def test_summary_counts_reservations_and_orders_short_of_stock() -> None:
    item = Item(sku="HOT1", unit_cost=Decimal(5), price=Decimal(12), scarce=True, index=1)
    orders = [f"o{n}" for n in range(UNITS + 3)]
    run = Run("hot sku", None, 30.0, accepted={o: 100.0 for o in orders})
    clock = EventClock(KafkaAccess("never-contacted:9092"))
    for n, order in enumerate(orders[:UNITS]):
        clock.seen[RESERVED][order] = 110.0
        clock.stock_answer[order] = "reserved"
        clock.reservations[f"r{n}"] = Reservation(order, {"HOT1": 1})
    clock.stock_answer |= {orders[-3]: "backordered", orders[-2]: "backordered"}
    clock.stock_answer[orders[-1]] = "rejected"

    hot = summarise(run, clock, item, {"sellable": 0, "reserved": 0})

    assert hot["orders_reserved"] == UNITS
    assert hot["reservations_per_s"] == UNITS / 10
    assert hot["short_of_stock"] == {"backordered": 2, "rejected": 1}
    assert hot["oversold_units"] == {"by_balances": 0, "by_reservation_events": 0}
    assert hot["balances_at_end"]["shipped"] == UNITS
    assert hot["stock_ran_out"] is True


@pytest.mark.asyncio
async def test_seed_registers_the_warehouses_and_the_item_and_receives_all_units_at_one_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[str, dict[str, Any], str | None]] = []

    def inventory(request: httpx.Request) -> httpx.Response:
        sent.append(
            (request.url.path, json.loads(request.content), request.headers.get("Idempotency-Key"))
        )
        return httpx.Response(201)

    @asynccontextmanager
    async def people(
        _state_dir: Path | None = None,
    ) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
        transport = httpx.MockTransport(inventory)
        async with (
            httpx.AsyncClient(base_url="http://inventory", transport=transport) as registering,
            httpx.AsyncClient(base_url="http://inventory", transport=transport) as receiving,
        ):
            yield registering, receiving

    replicated: list[list[str]] = []

    async def wait_replicated(skus: list[str], _state_dir: Path | None = None) -> None:
        replicated.append(skus)

    monkeypatch.setattr(bench_hot_sku, "inventory_people", people)
    monkeypatch.setattr(bench_hot_sku, "wait_replicated", wait_replicated)

    item = await bench_hot_sku.seed()

    locations = [body["location_id"] for path, body, _ in sent if path == "/v1/locations"]
    assert locations == [location for location, _name, _postal in WAREHOUSES]
    assert sent[len(WAREHOUSES) :] == [
        (
            "/v1/items",
            {
                "sku": item.sku,
                "name": f"Bench hot item {item.sku}",
                "unit_cost": "5.00",
                "currency": "USD",
            },
            None,
        ),
        (
            "/v1/receipts",
            {
                "sku": item.sku,
                "location_id": bench_hot_sku.LOCATION,
                "quantity": UNITS,
                "unit_cost": "5.00",
                "reference": "bench hot sku",
            },
            f"hot-{item.sku}",
        ),
    ]
    assert replicated == [[item.sku]]
