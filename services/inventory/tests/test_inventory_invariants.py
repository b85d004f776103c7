"""Service tests: the stock invariants report counts every break and lists them page by page."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_harness import Inventory
from keel_inventory import repository, reservations
from keel_inventory.models import StockBalance
from keel_kit.tables import utcnow

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def every_item(inventory: Inventory, path: str, limit: int) -> list[list[dict[str, Any]]]:
    """Each page of the list, following `next_cursor` until it is null."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = await inventory.get_json(path, **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


async def test_invariants_count_oversold_stock_and_a_ledger_mismatch_and_list_them(
    inventory: Inventory,
) -> None:
    await inventory.receive("MUG", "WH-A", 1)
    async with inventory.db.transaction() as session:
        # Bypass the reservation rules to build the states the report must catch.
        await repository.add_movements(
            session,
            [
                reservations._movement("MUG", "WH-A", 3, "reservation", "bogus", utcnow()),
            ],
        )
        session.add(StockBalance(sku="PLATE", location_id="WH-B", state="sellable", quantity=4))

    body = await inventory.get_json("/v1/invariants")

    assert body == {
        "ledger_matches_balances": False,
        "mismatched_balances": 1,
        "oversold_locations": 1,
        "oversold_units": 2,
    }
    assert await inventory.get_json("/v1/invariants/oversold") == {
        "items": [{"sku": "MUG", "location_id": "WH-A", "sellable": 1, "reserved": 3}],
        "next_cursor": None,
    }
    assert await inventory.get_json("/v1/invariants/mismatches") == {
        "items": [
            {"sku": "PLATE", "location_id": "WH-B", "state": "sellable", "ledger": 0, "balance": 4}
        ],
        "next_cursor": None,
    }


async def test_more_breaks_than_a_page_are_all_counted_and_listed_a_page_at_a_time(
    inventory: Inventory,
) -> None:
    async with inventory.db.transaction() as session:
        # Five locations with units reserved and none sellable, on no movement: each is oversold
        # and off its ledger.
        for n in range(5):
            session.add(
                StockBalance(sku="MUG", location_id=f"WH-{n}", state="reserved", quantity=n + 1)
            )

    body = await inventory.get_json("/v1/invariants")
    oversold = await every_item(inventory, "/v1/invariants/oversold", limit=2)
    mismatches = await every_item(inventory, "/v1/invariants/mismatches", limit=2)
    exact = await inventory.get_json("/v1/invariants/oversold", limit=5)

    assert (body["mismatched_balances"], body["oversold_locations"]) == (5, 5)
    assert body["oversold_units"] == 1 + 2 + 3 + 4 + 5
    assert [len(page) for page in oversold] == [2, 2, 1]
    assert [(o["location_id"], o["sellable"], o["reserved"]) for p in oversold for o in p] == [
        (f"WH-{n}", 0, n + 1) for n in range(5)
    ]
    assert [(m["location_id"], m["ledger"], m["balance"]) for p in mismatches for m in p] == [
        (f"WH-{n}", 0, n + 1) for n in range(5)
    ]
    # a full page that is the last one says so: no cursor to an empty page
    assert (len(exact["items"]), exact["next_cursor"]) == (5, None)


@pytest.mark.parametrize("path", ["/v1/invariants/oversold", "/v1/invariants/mismatches"])
@pytest.mark.parametrize("cursor", ["not-a-cursor", "TVVH"])  # TVVH is "MUG": parts short
async def test_a_cursor_the_report_never_gave_out_is_a_422_naming_it(
    inventory: Inventory, path: str, cursor: str
) -> None:
    response = await inventory.client.get(path, params={"cursor": cursor})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "cursor" in {error["field"] for error in response.json()["errors"]}
