"""Service tests: a replenishment run answers for itself, and its suggestions (each naming the
purchase order it went on) are read a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from keel_contracts.events import LocationRegistered, StockIssued
from keel_contracts.values import Money
from procurement_harness import Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def policies(procurement: Procurement) -> None:
    """Three policies, each SKU selling 2 a day with nothing on hand or on order, so each is
    below its reorder point: two at WH-EAST from ACME (one purchase order) and one at WH-WEST
    from BETA (another)."""
    await procurement.publish(
        LocationRegistered(
            location_id="WH-WEST", name="West", kind="warehouse", country="US", postal_code="94105"
        )
    )
    beta = {"supplier_id": "BETA", "name": "Beta Goods", "lead_time_days": 3}
    assert (await procurement.client.post("/v1/suppliers", json=beta)).status_code == 201
    for sku, location_id, supplier_id in (
        ("PLATE-2", "WH-EAST", "ACME"),
        ("MUG-1", "WH-WEST", "BETA"),
        ("MUG-1", "WH-EAST", "ACME"),
    ):
        body = {
            "supplier_id": supplier_id,
            "service_level": "0.95",
            "min_order_qty": 10,
            "pack_size": 5,
        }
        path = f"/v1/policies/{sku}/{location_id}"
        assert (await procurement.client.put(path, json=body)).status_code == 200
        sold = StockIssued(
            order_id="o",
            shipment_id="s",
            location_id=location_id,
            sku=sku,
            quantity=2,
            unit_cost=Money(amount=Decimal("2.50"), currency="USD"),
        )
        await procurement.publish(sold, at=datetime.now(UTC) - timedelta(days=1))


def position(suggestion: dict[str, Any]) -> tuple[str, str, str]:
    return suggestion["supplier_id"], suggestion["location_id"], suggestion["sku"]


async def test_a_run_answers_with_what_it_made_and_is_read_back_by_its_id(
    procurement: Procurement,
) -> None:
    await policies(procurement)

    run = await procurement.run()

    assert (run["suggestions_made"], run["purchase_orders_drafted"]) == (3, 2)
    assert await procurement.get_json(f"/v1/replenishment-runs/{run['run_id']}") == run
    suggestions = await procurement.suggestions_of(run)
    assert {s["run_id"] for s in suggestions} == {run["run_id"]}
    drafted = {s["po_id"] for s in suggestions}
    assert len(drafted) == 2
    for po_id in drafted:  # each suggestion finds the draft it went on
        po = await procurement.po(po_id)
        assert po["status"] == "draft"
        lines = {(po["supplier_id"], po["location_id"], line["sku"]) for line in po["lines"]}
        assert lines == {position(s) for s in suggestions if s["po_id"] == po_id}


async def test_a_run_s_suggestions_come_a_page_at_a_time_by_supplier_location_and_sku(
    procurement: Procurement,
) -> None:
    await policies(procurement)
    run = await procurement.run()
    path = f"/v1/replenishment-runs/{run['run_id']}/suggestions"

    first = await procurement.get_json(path, limit=2)
    second = await procurement.get_json(path, limit=2, cursor=first["next_cursor"])
    whole = await procurement.get_json(path, limit=3)

    in_order = [("ACME", "WH-EAST", "MUG-1"), ("ACME", "WH-EAST", "PLATE-2")]
    assert [position(s) for s in first["items"]] == in_order
    assert [position(s) for s in second["items"]] == [("BETA", "WH-WEST", "MUG-1")]
    assert first["next_cursor"] is not None
    assert second["next_cursor"] is None
    # a full page that is the last one says so: no cursor to an empty page
    assert (len(whole["items"]), whole["next_cursor"]) == (3, None)
    # the next run has suggestions of its own (none: all is on order now), not this one's
    again = await procurement.run()
    assert await procurement.suggestions_of(again) == []


async def test_runs_are_listed_newest_first_a_page_at_a_time(procurement: Procurement) -> None:
    made = [(await procurement.run())["run_id"] for _ in range(3)]

    first = await procurement.get_json("/v1/replenishment-runs", limit=2)
    second = await procurement.get_json(
        "/v1/replenishment-runs", limit=2, cursor=first["next_cursor"]
    )

    listed = [r["run_id"] for r in first["items"] + second["items"]]
    assert listed == sorted(made, reverse=True)
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "path",
    [
        "/v1/replenishment-runs/01900000-0000-7000-8000-000000000000",
        "/v1/replenishment-runs/01900000-0000-7000-8000-000000000000/suggestions",
        "/v1/replenishment-runs/no-such-run/suggestions",
    ],
)
async def test_a_run_never_made_is_a_404_problem(procurement: Procurement, path: str) -> None:
    response = await procurement.client.get(path)

    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "no replenishment run" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/v1/replenishment-runs/{run_id}/suggestions", "not-a-cursor"),
        ("/v1/replenishment-runs/{run_id}/suggestions", "QUNNRQ"),  # "ACME": parts short
        ("/v1/replenishment-runs", "QUNNRQ"),  # "ACME": no run id
    ],
)
async def test_a_cursor_never_given_out_is_a_422_naming_it(
    procurement: Procurement, path: str, cursor: str
) -> None:
    run = await procurement.run()

    response = await procurement.client.get(
        path.format(run_id=run["run_id"]), params={"cursor": cursor}
    )

    assert response.status_code == 422, response.text
    assert "cursor" in {error["field"] for error in response.json()["errors"]}
