"""Service tests of procurement's KPIs over time: purchase orders drafted, drafting to sending,
and the supplier's lead time to the first goods."""

from __future__ import annotations

from typing import Any

import pytest

from procurement_harness import Procurement

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def latest(procurement: Procurement) -> dict[str, Any]:
    report = (await procurement.client.get("/v1/kpis", params={"bucket": "day"})).json()
    return {s["name"]: s["points"][-1]["value"] for s in report["series"]}


async def test_buying_and_suppliers_are_measured(procurement: Procurement) -> None:
    await procurement.draft()
    drafted = await latest(procurement)
    assert drafted["purchase_orders_drafted"] == "1"
    assert drafted["draft_to_sent_hours"] is None  # nothing sent yet

    await procurement.sent_order()
    sent = await latest(procurement)
    assert sent["purchase_orders_drafted"] == "2"
    assert float(sent["draft_to_sent_hours"]) < 0.1
    assert sent["supplier_lead_time_days"] is None  # nothing received yet
