"""The console in a real browser against real services on the broker and PostgreSQL: people
added with `keel user add` sign in, work the exception queue, and are kept to their role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from keel_contracts.roles import Role
from tests.integration.support import StartService, eventually, new_sku, order_body
from tests.integration.support.browser import (
    accessibility_violations,
    chromium,
    screenshot,
    sign_in,
)
from tests.integration.support.console import PASSWORD, ConsoleStack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


@pytest.fixture(scope="module")
def stack(start_module_service: StartService) -> ConsoleStack:
    """One stack for the module: each test makes its own SKUs, orders and people."""
    return ConsoleStack(start_module_service)


def payment_hold(stack: ConsoleStack) -> tuple[str, dict[str, Any]]:
    """An order the payment provider wants reviewed, and its exception once queued."""
    sku = new_sku()
    stack.stock(sku, {"WH-EAST": 5})
    order_id = stack.place(order_body(sku, quantity=2, token="tok_review"))

    def queued() -> dict[str, Any] | None:
        items = stack.order.get("/v1/exceptions", limit=200).json()["items"]
        return next((i for i in items if i["order_id"] == order_id), None)

    return order_id, eventually(queued, what="the payment hold queued")


async def test_operations_claims_and_resolves_a_payment_hold_and_the_order_moves_on(
    stack: ConsoleStack,
) -> None:
    stack.add_user("olga", Role.OPERATIONS)
    order_id, held = payment_hold(stack)
    exception_id = held["exception_id"]
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, stack.console.url, "olga", PASSWORD)
        await expect(page.get_by_role("heading", name="Exceptions")).to_be_visible()
        row = page.locator(f"tr#{exception_id}")
        await expect(row).to_contain_text("payment hold")
        await expect(row).to_contain_text("nobody")
        assert await accessibility_violations(page) == []
        await screenshot(page, "console-operations")

        await row.get_by_role("button", name=f"Claim {exception_id}").click()
        await expect(page.get_by_role("status")).to_have_text(f"Claimed {exception_id}.")
        row = page.locator(f"tr#{exception_id}")
        await expect(row).to_contain_text("olga")
        await row.get_by_label("Decision").select_option("release")
        await row.get_by_label("Note").fill("issuer confirmed by phone")
        await row.get_by_role("button", name=f"Resolve {exception_id}").click()
        await expect(page.get_by_role("status")).to_have_text(f"Resolved {exception_id}.")
        await expect(page.locator(f"tr#{exception_id}")).to_have_count(0)

        # Finance authorizes on the decision, and the order is confirmed and released.
        eventually(lambda: stack.order_status(order_id) == "released", what="the order released")
        await page.goto(f"{stack.console.url}/orders/{order_id}")
        await expect(page.locator(".status")).to_have_text("released")
        await expect(page.locator(".timeline")).to_contain_text("payment_hold release")
        await expect(page.get_by_role("link", name="Open the order's trace")).to_have_attribute(
            "href", re.compile(f"order.id%3D{order_id}")
        )
        assert await accessibility_violations(page) == []

    audit = stack.order.get("/v1/audit", object_id=order_id).json()["items"]
    assert [(e["action"], e["actor"]) for e in audit] == [  # newest first
        ("hold.resolved", "olga"),
        ("hold.claimed", "olga"),
    ]


async def test_a_warehouse_session_cannot_reach_the_queue_nor_forge_a_form(
    stack: ConsoleStack,
) -> None:
    stack.add_user("walt", Role.WAREHOUSE)
    stack.add_user("olga", Role.OPERATIONS)
    _order_id, held = payment_hold(stack)
    claim = f"{stack.console.url}/exceptions/order/{held['exception_id']}/claim"
    async with chromium() as browser:
        walt = await browser.new_page()
        await sign_in(walt, stack.console.url, "walt", PASSWORD)
        await walt.goto(f"{stack.console.url}/exceptions")
        await expect(walt.get_by_role("alert")).to_contain_text("walt (warehouse) has no such page")
        await expect(walt.get_by_role("button", name=re.compile("Claim"))).to_have_count(0)

        # Olga is signed in, but a post without her session's CSRF token does nothing.
        olga = await browser.new_page()
        await sign_in(olga, stack.console.url, "olga", PASSWORD)
        forged = await olga.request.post(claim, form={"note": "x"})
        assert forged.status == 403
        assert "CSRF" in await forged.text()
    assert stack.order.get("/v1/audit", object_id=held["order_id"]).json()["items"] == []
