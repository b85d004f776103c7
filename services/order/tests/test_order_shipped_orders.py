"""`GET /v1/shipped-orders`: the orders whose every unit has left, which `keel check` matches
with finance's posted sales."""

from __future__ import annotations

from typing import Any

import pytest

from keel_contracts.events import ShipmentShipped
from keel_contracts.values import Line
from order_harness import ORDER, Stack, authorized, reserved

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def released(stack: Stack, external_id: str) -> str:
    order_id = await stack.place({**ORDER, "external_id": external_id}, key=external_id)
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))
    return order_id


async def ship(stack: Stack, order_id: str, quantity: int) -> None:
    await stack.publish(
        ShipmentShipped(
            shipment_id=f"s-{order_id}",
            order_id=order_id,
            location_id="WH-1",
            lines=(Line(sku="MUG-1", quantity=quantity),),
            carrier="UPS",
            tracking_number="1Z",
        )
    )


async def every_page(stack: Stack, limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = await stack.get_json("/v1/shipped-orders", **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


async def test_only_orders_shipped_whole_are_listed_with_their_totals(stack: Stack) -> None:
    whole = sorted([await released(stack, "W-2"), await released(stack, "W-3")])
    partly = await released(stack, "W-4")
    waiting = await released(stack, "W-5")
    for order_id in whole:
        await ship(stack, order_id, 2)
    await ship(stack, partly, 1)

    pages = await every_page(stack, limit=1)

    assert pages == [
        [{"order_id": whole[0], "currency": "USD", "total": "30.00"}],
        [{"order_id": whole[1], "currency": "USD", "total": "30.00"}],
    ]  # a full last page gives no cursor to an empty one
    assert (await stack.order(partly))["status"] == "partially_shipped"
    assert (await stack.order(waiting))["status"] == "released"


async def test_a_cursor_not_given_out_is_a_422(stack: Stack) -> None:
    response = await stack.client.get("/v1/shipped-orders", params={"cursor": "a\x00b"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("currency", "unit_price", "shipping", "shown"),
    [
        ("JPY", "150", "30", ("150", "330")),  # yen are whole
        ("KWD", "12.5", "5", ("12.500", "30.000")),  # a dinar has three places
    ],
)
async def test_an_order_s_amounts_are_shown_with_its_currency_s_places(
    stack: Stack, currency: str, unit_price: str, shipping: str, shown: tuple[str, str]
) -> None:
    body = {
        **ORDER,
        "external_id": f"X-{currency}",
        "currency": currency,
        "lines": [{"sku": "MUG-1", "quantity": 2, "unit_price": unit_price}],
        "shipping": {**ORDER["shipping"], "amount": shipping},
    }
    order_id = await stack.place(body)
    await stack.publish(reserved(order_id, ("WH-1", 2)))
    await stack.publish(authorized(order_id))
    await ship(stack, order_id, 2)

    order = await stack.order(order_id)
    listed = await stack.get_json("/v1/shipped-orders")

    assert (order["currency"], order["lines"][0]["unit_price"], order["total"]) == (
        currency,
        *shown,
    )
    assert listed["items"] == [{"order_id": order_id, "currency": currency, "total": shown[1]}]
