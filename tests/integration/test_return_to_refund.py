"""Return to refund on the real broker and PostgreSQL: a delivered order comes back, each graded
unit lands in its stock state, finance posts the restock and the write-off, and the refund is paid
through the payment port, never above what was captured."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.support import (
    ServiceHttp,
    ServiceProcess,
    Stack,
    StartService,
    eventually,
    new_sku,
    order_body,
    people,
)

pytestmark = pytest.mark.integration

INVENTORY = "1300"
COST_OF_GOODS_SOLD = "5000"
WRITE_OFFS = "5800"


def ask_return(returns: ServiceHttp, order_id: str, sku: str, quantity: int) -> Any:
    """Ask for a return, as customer service, once the returns service knows the order shipped
    (it learns it from events; until then it answers 503 while behind on them, or that nothing
    has shipped)."""
    body = {"order_id": order_id, "lines": [{"sku": sku, "quantity": quantity, "reason": "fit"}]}

    def answered() -> Any:
        response = returns.as_person(people.CUSTOMER_SERVICE).post("/v1/returns", body)
        unknown = response.status_code in (404, 409, 503) or "has shipped" in response.text
        return None if unknown else response

    return eventually(answered, what="the returns service to know the delivered order")


def balances(stack: Stack, sku: str) -> dict[str, int]:
    body: dict[str, Any] = stack.inventory.get(f"/v1/balances/{sku}").json()
    return {state: int(quantity) for state, quantity in body["totals"].items()}


def account_totals(finance: ServiceProcess, account: str) -> tuple[Decimal, Decimal]:
    """The account's debits and credits in dollars, the currency these orders are in."""
    for books in finance.get("/v1/trial-balance").json()["currencies"]:
        for row in books["accounts"] if books["currency"] == "USD" else []:
            if row["account"] == account:
                return Decimal(row["debits"]), Decimal(row["credits"])
    return Decimal(0), Decimal(0)


def test_a_graded_return_moves_each_unit_posts_it_and_refunds_within_the_capture(
    start_service: StartService,
) -> None:
    stack = Stack(start_service, fulfillment=True, returns=True)
    returns = stack.returns
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 6}, unit_cost="8.00")
    order_id = stack.place(order_body(sku, quantity=4))  # 4 x 20.00 + 4.99 shipping
    stack.deliver(order_id)
    # Delivered is the order service's view. Inventory issues the shipped units from its own
    # consumer, and nothing below waits for that: the return comes in through the returns
    # service, which learns of the shipment from fulfillment, not from inventory.
    eventually(
        lambda: balances(stack, sku).get("sellable") == 2, what="inventory to issue the shipment"
    )

    too_many = ask_return(returns, order_id, sku, 5)
    assert too_many.status_code == 422, too_many.text
    assert "4" in too_many.text  # names what can still come back

    accepted = ask_return(returns, order_id, sku, 4)
    assert accepted.status_code == 201, accepted.text
    return_id = accepted.json()["return_id"]
    warehouse = returns.as_person(people.WAREHOUSE)  # takes the goods back and grades them
    units = {"location_id": "WH-EAST", "lines": [{"sku": sku, "quantity": 4}]}
    assert warehouse.post(f"/v1/returns/{return_id}/receipt", units).status_code == 200
    eventually(
        lambda: balances(stack, sku).get("pending_inspection") == 4,
        what="four units pending inspection",
    )
    _, cogs_credited_before = account_totals(stack.finance, COST_OF_GOODS_SOLD)

    graded = [{"sku": sku, "quantity": 1, "grade": grade} for grade in "ABCD"]
    inspected = warehouse.post(f"/v1/returns/{return_id}/inspection", {"lines": graded})
    assert inspected.status_code == 200, inspected.text

    def moved() -> dict[str, int] | None:
        now = balances(stack, sku)
        return now if now.get("pending_inspection") == 0 else None

    after = eventually(moved, what="every unit out of pending inspection")
    assert after["sellable"] == 3  # the 2 never sold and the grade A unit
    assert after["quarantine"] == 1  # grade B, to refurbish
    assert after["damaged"] == 1  # grade C
    assert after["written_off"] == 1  # grade D

    # Three units come back into valued stock at the 8.00 they left at (Dr inventory, Cr COGS);
    # the fourth does too, then goes to the write-off account.
    def cogs_relieved() -> Decimal | None:
        relieved = account_totals(stack.finance, COST_OF_GOODS_SOLD)[1] - cogs_credited_before
        return relieved if relieved >= Decimal("32.00") else None

    assert eventually(cogs_relieved, what="cost of goods relieved") == Decimal("32.00")
    assert eventually(
        lambda: account_totals(stack.finance, WRITE_OFFS)[0] or None,
        what="the write-off posted",
    ) == Decimal("8.00")

    def settled() -> dict[str, Any] | None:
        shown: dict[str, Any] = returns.get(f"/v1/returns/{return_id}").json()
        return shown if shown["status"] == "refunded" else None

    refunded = eventually(settled, what="the refund paid")
    [refund] = refunded["refunds"]
    payment = stack.payment(order_id)
    assert refund["refunded"] == refund["amount"]  # paid in full: within what was captured
    assert Decimal(payment["refunded_amount"]) == Decimal(refund["amount"]["amount"])
    assert Decimal(payment["refunded_amount"]) <= Decimal(payment["captured_amount"])
    assert Decimal(payment["captured_amount"]) == Decimal("84.99")

    again = returns.as_person(people.CUSTOMER_SERVICE).post(
        "/v1/returns",
        {"order_id": order_id, "lines": [{"sku": sku, "quantity": 1, "reason": "fit"}]},
    )
    assert again.status_code == 422, again.text  # nothing left to return

    assert stack.finance.get("/v1/trial-balance").json()["balanced"] is True

    # Finance values 5 units: 6 received, 4 sold, 3 back in stock (grades A to C), as inventory
    # holds them. The test broker is shared, so the reconciliation's per-SKU list may carry other
    # tests' SKUs; its money side is finance's own and must hold exactly.
    valuation = stack.finance.get(f"/v1/valuation/{sku}").json()
    held = stack.inventory.get(f"/v1/balances/{sku}").json()
    assert valuation["quantity"] == held["valued_quantity"] == 5

    def reconciled() -> dict[str, Any] | None:
        body: dict[str, Any] = stack.finance.get("/v1/reconciliation/inventory").json()
        return body if Decimal(body["difference"]) == 0 else None

    body = eventually(reconciled, what="the journal's inventory to equal the valuations")
    assert sku not in {m["sku"] for m in body["mismatches"]}
