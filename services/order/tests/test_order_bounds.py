"""Service tests: an order whose money the ledger could not carry is a 422 at the door, naming
the field (keel_contracts.limits), and nothing of it is kept."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlmodel import func, select

from keel_order.models import Order
from order_harness import ORDER, Stack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

# 10,000 units at the dearest unit price: 999,999,999,900.00. A hundred of them leave 9,999.99
# under the most one amount carries (99,999,999,999,999.99).
DEAREST_LINE = {"sku": "MUG-1", "quantity": 10_000, "unit_price": "99999999.99"}
# 101 of them, each of its own SKU: the goods alone pass what one amount carries.
TOO_DEAR = [{**DEAREST_LINE, "sku": f"SKU-{n}"} for n in range(101)]


def order_with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return body


def shipping(amount: str) -> dict[str, Any]:
    return {**ORDER["shipping"], "amount": amount}


def address(**changes: str) -> dict[str, Any]:
    return {**ORDER["shipping"], "address": {**ORDER["shipping"]["address"], **changes}}


async def post(stack: Stack, body: dict[str, Any], key: str = "bounds") -> Any:
    return await stack.client.post("/v1/orders", json=body, headers={"Idempotency-Key": key})


async def orders_kept(stack: Stack) -> int:
    async with stack.db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(Order))).one()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order_with(lines=TOO_DEAR), "lines"),
        # 101 lines of one SKU: more units than one allocation or issue carries.
        (order_with(lines=[{**DEAREST_LINE, "unit_price": "1.00"}] * 101), "lines.100.quantity"),
        (order_with(lines=[DEAREST_LINE] * 100, shipping=shipping("10000.00")), "shipping.amount"),
        (
            order_with(lines=[{"sku": "MUG-1", "quantity": 1, "unit_price": "100000000"}]),
            "lines.0.unit_price",
        ),
        (order_with(shipping=shipping("100000000.00")), "shipping.amount"),
        (order_with(currency="JPY"), "lines.0.unit_price"),  # 12.50 yen: a yen has no places
        (
            order_with(
                currency="JPY",
                lines=[{"sku": "MUG-1", "quantity": 1, "unit_price": "1250"}],
                shipping=shipping("0.50"),
            ),
            "shipping.amount",
        ),
        (order_with(external_id="W-\x00-1"), "external_id"),
        (order_with(shipping=address(name="A\u0085nn")), "shipping.address.name"),
    ],
)
async def test_an_order_the_ledger_cannot_carry_is_a_422_naming_the_field(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    response = await post(stack, body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await orders_kept(stack) == 0


async def test_the_dearest_order_the_ledger_carries_is_accepted(stack: Stack) -> None:
    body = order_with(lines=[DEAREST_LINE] * 100, shipping=shipping("9999.99"))

    response = await post(stack, body)

    assert response.status_code == 202, response.text
    order = (await stack.client.get(f"/v1/orders/{response.json()['order_id']}")).json()
    assert order["total"] == "99999999999999.99"


async def test_a_three_place_currency_is_priced_to_the_journal_s_two_places(stack: Stack) -> None:
    two = order_with(currency="KWD", lines=[{"sku": "MUG-1", "quantity": 1, "unit_price": "1.5"}])
    three = order_with(
        currency="KWD", lines=[{"sku": "MUG-1", "quantity": 1, "unit_price": "1.505"}]
    )

    assert (await post(stack, two, key="two")).status_code == 202
    refused = await post(stack, three, key="three")
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["lines.0.unit_price"]


async def test_an_oversized_order_in_a_batch_refuses_the_batch_naming_it(stack: Stack) -> None:
    body = {
        "orders": [
            {"idempotency_key": "b-0", "order": order_with(external_id="B-0")},
            {"idempotency_key": "b-1", "order": order_with(lines=TOO_DEAR)},
        ]
    }

    response = await stack.client.post("/v1/orders/batch", json=body)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["orders.1.order.lines"]
    assert await orders_kept(stack) == 0
