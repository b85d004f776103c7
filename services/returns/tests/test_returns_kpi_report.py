"""Service tests of returns' KPIs over time: returns authorized and the processing time from
receipt to refund paid."""

from __future__ import annotations

from typing import Any

import pytest

from returns_harness import Stack, paid

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


async def latest(stack: Stack) -> dict[str, Any]:
    report = (await stack.client.get("/v1/kpis", params={"bucket": "hour"})).json()
    assert report["service"] == "returns"
    return {s["name"]: s["points"][-1]["value"] for s in report["series"]}


async def test_returns_and_their_processing_time_are_reported(stack: Stack) -> None:
    return_id = await stack.returned("o-1", "MUG-1", "12.00")
    waiting = await latest(stack)
    assert waiting["returns_authorized"] == "1"
    assert waiting["return_processing_hours"] is None  # no refund paid yet

    (refund,) = (await stack.view(return_id))["refunds"]
    await stack.publish(paid(refund, "12.00"))
    done = await latest(stack)
    assert done["return_processing_hours"] is not None
    assert 0 <= float(done["return_processing_hours"]) < 0.1  # received and paid just now
