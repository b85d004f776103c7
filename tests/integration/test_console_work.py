"""Each role's own work through the console in a real browser, against real services on the
broker and PostgreSQL: the warehouse ships, the warehouse receives and grades a return and
finance approves its refund, which is paid, customer service cancels an order, two buyers
approve a large purchase order, the warehouse receives goods and counts them blind."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from keel_contracts.roles import Role
from tests.integration.support import StartService, eventually, new_sku, order_body, people
from tests.integration.support.browser import (
    accessibility_violations,
    chromium,
    screenshot,
    sign_in,
)
from tests.integration.support.console import PASSWORD, ConsoleStack
from tests.integration.support.purchasing import approve_send_confirm, draft_purchase_order

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest.fixture(scope="module")
def stack(start_module_service: StartService) -> ConsoleStack:
    """One stack for the module: each test makes its own SKUs, orders and people."""
    return ConsoleStack(start_module_service)


async def test_the_warehouse_picks_and_ships_a_shipment_and_the_order_is_shipped(
    stack: ConsoleStack,
) -> None:
    stack.add_user("wes", Role.WAREHOUSE)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 5})
    order_id = stack.place(order_body(sku, quantity=1))
    shipments = eventually(
        lambda: stack.fulfillment.get("/v1/shipments", order_id=order_id).json(),
        what="the shipment planned",
    )
    shipment_id = shipments[0]["shipment_id"]
    short = shipment_id[-8:]
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, stack.console.url, "wes", PASSWORD)
        await expect(page.get_by_role("heading", name="Shipments")).to_be_visible()
        await page.get_by_label("Location").fill("WH-EAST")
        await page.get_by_role("button", name="Show").click()
        row = page.locator(f"tr#shipment-{shipment_id}")
        await expect(row).to_contain_text(sku)
        assert await accessibility_violations(page) == []
        await screenshot(page, "console-warehouse")

        await row.get_by_role("button", name=f"Picked {short}").click()
        await expect(page.get_by_role("status")).to_have_text("Recorded picked.")
        row = page.locator(f"tr#shipment-{shipment_id}")
        await expect(row).to_contain_text("picked")
        await row.get_by_label("Carrier").fill("UPS")
        await row.get_by_label("Tracking").fill("1Z-CONSOLE")
        await row.get_by_role("button", name=f"Shipped {short}").click()
        await expect(page.get_by_role("status")).to_have_text("Recorded shipped.")
        await expect(page.locator(f"tr#shipment-{shipment_id}")).to_have_count(0)

    eventually(lambda: stack.order_status(order_id) == "shipped", what="the order shipped")
    (shipped,) = stack.fulfillment.get("/v1/shipments", order_id=order_id).json()
    assert (shipped["status"], shipped["tracking_number"]) == ("shipped", "1Z-CONSOLE")


def authorized_return(stack: ConsoleStack) -> tuple[str, str, str]:
    """A delivered order of two units at 300.00 whose return customer service authorized: the
    order, its SKU and the return."""
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 2})
    order_id = stack.place(order_body(sku, quantity=2, unit_price="300.00"))
    stack.deliver(order_id)
    body = {"order_id": order_id, "lines": [{"sku": sku, "quantity": 2, "reason": "fit"}]}
    customer_service = stack.returns.as_person(people.CUSTOMER_SERVICE)

    def authorized() -> str | None:
        response = customer_service.post("/v1/returns", body)
        return str(response.json()["return_id"]) if response.status_code == 201 else None

    return_id = eventually(authorized, what="the returns service to know the delivered order")
    return order_id, sku, return_id


async def test_finance_approves_a_refund_and_it_is_paid(stack: ConsoleStack) -> None:
    """The warehouse receives and grades the returned units; the refund, above the 500.00
    approval threshold, waits for finance, who approves it, and it is paid."""
    stack.add_user("wes", Role.WAREHOUSE)
    stack.add_user("fay", Role.FINANCE)
    order_id, sku, return_id = authorized_return(stack)
    short = return_id[-8:]
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, stack.console.url, "wes", PASSWORD)
        await page.get_by_role("link", name="Returns", exact=True).click()
        await page.get_by_label("Location").fill("WH-EAST")
        await page.get_by_role("button", name="Show").click()
        receipt = page.locator(f"#receive-{return_id}")
        counted = receipt.get_by_label(f"Units of {sku} that came in (2 authorized)")
        await expect(counted).to_have_value("2")  # as authorized, unless counted otherwise
        assert await accessibility_violations(page) == []
        await receipt.get_by_role("button", name=f"Receive return {short}").click()
        await expect(page.get_by_role("status")).to_have_text(f"Received return {short}.")
        await expect(page.locator(f"#receive-{return_id}")).to_have_count(0)

        inspection = page.locator(f"#inspect-{return_id}")
        await inspection.get_by_label(f"{sku} graded A (restock)").fill("2")
        assert await accessibility_violations(page) == []
        await screenshot(page, "console-warehouse-returns")
        await inspection.get_by_role("button", name=f"Inspect return {short}").click()
        await expect(page.get_by_role("status")).to_have_text(f"Inspected return {short}.")
        await expect(page.locator(f"#inspect-{return_id}")).to_have_count(0)

        graded = stack.returns.get(f"/v1/returns/{return_id}").json()
        assert (graded["location_id"], graded["items"][0]["received"]) == ("WH-EAST", 2)
        (refund,) = graded["refunds"]
        assert refund["status"] == "pending_approval"
        page = await browser.new_page()  # a browser context of its own: finance's session
        await sign_in(page, stack.console.url, "fay", PASSWORD)
        await expect(
            page.get_by_role("heading", name="Refunds waiting for approval")
        ).to_be_visible()
        row = page.locator(f"tr#refund-{refund['refund_id']}")
        await expect(row).to_contain_text("604.99 USD")  # both units, and the shipping paid
        assert await accessibility_violations(page) == []
        await screenshot(page, "console-finance")

        await row.get_by_role("button", name=f"Approve refund {refund['refund_id'][-8:]}").click()
        await expect(page.get_by_role("status")).to_have_text(
            f"Approved refund {refund['refund_id'][-8:]}."
        )

        def paid() -> dict[str, object] | None:
            (now,) = stack.returns.get(f"/v1/returns/{return_id}").json()["refunds"]
            return now if now["status"] == "refunded" else None

        settled = eventually(paid, what="finance to pay the refund")
        assert settled["approver"] == "fay"
        await page.goto(f"{stack.console.url}/finance/books?source_id={order_id}")
        await expect(page.get_by_role("heading", name="Trial balance")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("Balanced in every currency")
        await expect(page.locator("main")).to_contain_text("refund")
        assert await accessibility_violations(page) == []


async def test_customer_service_finds_an_order_and_cancels_it(stack: ConsoleStack) -> None:
    stack.add_user("cora", Role.CUSTOMER_SERVICE)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 3})
    body = order_body(sku, quantity=1)
    order_id = stack.place(body)
    eventually(lambda: stack.order_status(order_id) == "released", what="the order released")
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, stack.console.url, "cora", PASSWORD)
        await page.get_by_label("Channel's order number").fill(body["external_id"])
        await page.get_by_role("button", name="Find").click()
        await expect(page.get_by_role("link", name=order_id[-8:])).to_be_visible()
        assert await accessibility_violations(page) == []
        await screenshot(page, "console-customer-service")
        await page.get_by_role("link", name=order_id[-8:]).click()
        told = page.locator("main")
        await expect(told).to_contain_text(f"Your order {body['external_id']} is confirmed.")
        assert await accessibility_violations(page) == []
        await screenshot(page, "console-order")

        await page.get_by_label("Reason").fill("the customer called to cancel")
        await page.get_by_role("button", name="Cancel the order").click()
        await expect(page.get_by_role("status")).to_have_text("Cancelled the order.")
        await expect(page.locator(".status")).to_have_text("cancelled")
        await expect(told).to_contain_text(f"Your order {body['external_id']} is cancelled.")
    audit = stack.order.get("/v1/audit", object_id=order_id).json()["items"]
    assert [(e["action"], e["actor"], e["reason"]) for e in audit] == [
        ("order.cancelled", "cora", "the customer called to cancel")
    ]


async def test_two_buyers_approve_a_large_purchase_order(stack: ConsoleStack) -> None:
    for buyer in ("kim", "lee"):
        stack.add_user(buyer, Role.PROCUREMENT)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 0})
    po_id = draft_purchase_order(stack.procurement, sku, 2000)  # 14,000.00: two approvals
    row = f"tr#po-{po_id}"
    async with chromium() as browser:
        for buyer, after in (("kim", "1 of 2: kim"), ("lee", None)):
            page = await browser.new_page()
            await sign_in(page, stack.console.url, buyer, PASSWORD)
            await expect(page.locator(row)).to_contain_text("two different people")
            if buyer == "kim":
                assert await accessibility_violations(page) == []
                await screenshot(page, "console-procurement")
            await page.locator(row).get_by_role("button", name=f"Approve {po_id[-8:]}").click()
            await expect(page.get_by_role("status")).to_have_text(f"Approved {po_id[-8:]}.")
            if after is not None:
                await expect(page.locator(row)).to_contain_text(after)
                await expect(page.locator(row)).to_contain_text("you approved it")
        await expect(page.locator(row)).to_have_count(0)  # no longer waiting for approval
    po = stack.procurement.get(f"/v1/purchase-orders/{po_id}").json()
    assert (po["status"], po["approvers"]) == ("approved", ["kim", "lee"])


async def test_leadership_reads_every_services_kpis_from_postgresql(stack: ConsoleStack) -> None:
    stack.add_user("lea", Role.LEADERSHIP)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 2})
    order_id = stack.place(order_body(sku, quantity=1))
    eventually(lambda: stack.order_status(order_id) == "released", what="the order released")
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, stack.console.url, "lea", PASSWORD)
        await expect(page.get_by_role("heading", name="KPIs", exact=True)).to_be_visible()
        await page.get_by_role("link", name="Last 48 hours, by hour").click()
        await expect(page.get_by_role("alert")).to_have_count(0)  # every service answered
        for chart in ("orders_placed", "fill_rate", "oversell_rate", "returns_authorized",
                      "purchase_orders_drafted"):  # fmt: skip
            await expect(page.locator(f"#chart-{chart} svg")).to_be_visible()
        assert await accessibility_violations(page) == []
        await screenshot(page, "console-leadership")
        orders = page.locator("#chart-orders_placed")
        await orders.locator("summary").click()
        figures = await orders.locator("tbody td.num").all_inner_texts()
        assert sum(int(f) for f in figures) >= 1


async def test_the_warehouse_receives_a_purchase_orders_goods(stack: ConsoleStack) -> None:
    stack.add_user("wes", Role.WAREHOUSE)
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 0})
    po_id = draft_purchase_order(stack.procurement, sku, 20)
    approve_send_confirm(stack.procurement, po_id, "2030-01-15")
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, stack.console.url, "wes", PASSWORD)
        await page.get_by_label("Location").fill("WH-EAST")
        await page.get_by_role("button", name="Show").click()
        form = page.locator(f"#po-{po_id}")
        await form.get_by_label(f"Units of {sku} counted (0 of 20 in so far)").fill("20")
        assert await accessibility_violations(page) == []
        await form.get_by_role("button", name=f"Receive purchase order {po_id[-8:]}").click()
        await expect(page.get_by_role("status")).to_have_text("Recorded received.")
        await expect(page.locator(f"#po-{po_id}")).to_have_count(0)
    po = stack.procurement.get(f"/v1/purchase-orders/{po_id}").json()
    assert (po["status"], po["lines"][0]["received_quantity"]) == ("received", 20)
    eventually(lambda: stack.available(sku) == 20, what="the goods sellable in inventory")

    # A blind count of the shelf finds one unit short: 5% of 20, beyond the 2% tolerance.
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, stack.console.url, "wes", PASSWORD)
        await page.get_by_role("link", name="Counts", exact=True).click()
        await page.get_by_label("Location").fill("WH-EAST")
        await page.get_by_role("button", name="Show").click()
        await page.get_by_label("SKUs to count").fill(sku)
        await page.get_by_role("button", name="Start the count").click()
        await expect(page.get_by_role("status")).to_have_text(re.compile(r"^Started count "))
        counted = page.get_by_label(f"Units of {sku} counted")
        await expect(counted).to_have_value("")  # nothing expected shown while it is open
        assert await accessibility_violations(page) == []
        await counted.fill("19")
        await page.get_by_role("button", name=re.compile(r"^Post count ")).click()
        await expect(page.get_by_role("status")).to_have_text(re.compile(r"^Posted count "))
        line = page.locator(f"tr#line-{sku}")
        await expect(line).to_contain_text("-1")
        await expect(line).to_contain_text("waits for approval by operations")
        assert await accessibility_violations(page) == []
    assert stack.available(sku) == 20  # unchanged until operations approves
