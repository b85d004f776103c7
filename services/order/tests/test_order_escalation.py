"""Service tests of the escalation path: an exception left open past its SLA goes up to
operations, a whole SLA later to admin, each step once and audited, never once it is decided."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from test_order_exception_claims import OLA, act, fraud_review

from keel_order.holds.escalation import escalate_overdue_holds
from order_harness import ORDER, Stack, running_order

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack) as stack:
        yield stack


async def escalate_at(stack: Stack, moment: datetime) -> None:
    await stack.run_job(escalate_overdue_holds, clock=lambda: moment)


async def exception(stack: Stack, exception_id: str, **params: str) -> dict[str, Any] | None:
    response = await stack.client.get("/v1/exceptions", params=params)
    assert response.status_code == 200, response.text
    found = [i for i in response.json()["items"] if i["exception_id"] == exception_id]
    return dict(found[0]) if found else None


async def escalations(stack: Stack, order_id: str) -> list[tuple[Any, Any]]:
    response = await stack.client.get("/v1/audit", params={"object_id": order_id})
    assert response.status_code == 200, response.text
    entries = [e for e in response.json()["items"] if e["action"] == "hold.escalated"]
    return [(e["actor"], e["after"]["escalated_to"]) for e in sorted(entries, key=seq)]


def seq(entry: dict[str, Any]) -> int:
    return int(entry["seq"])


def due(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["due_at"])


async def test_an_overdue_hold_goes_to_operations_then_to_admin_each_step_once(
    stack: Stack,
) -> None:
    item = await fraud_review(stack)  # customer service's, 4 hours
    exception_id, sla = item["exception_id"], timedelta(hours=4)
    assert item["escalated_to"] is None

    await escalate_at(stack, due(item) - timedelta(minutes=1))
    assert (await exception(stack, exception_id))["escalated_to"] is None  # type: ignore[index]

    overdue = due(item) + timedelta(minutes=1)
    await escalate_at(stack, overdue)
    await escalate_at(stack, overdue + timedelta(minutes=5))  # a second run, or replica
    seen = await exception(stack, exception_id)
    assert seen is not None
    assert (seen["escalated_to"], datetime.fromisoformat(seen["escalated_at"])) == (
        "operations",
        overdue,
    )

    await escalate_at(stack, due(item) + sla + timedelta(minutes=1))
    assert await exception(stack, exception_id, escalated_to="admin") is not None
    assert await exception(stack, exception_id, escalated_to="operations") is None
    assert await escalations(stack, item["order_id"]) == [
        ("service:order", "operations"),
        ("service:order", "admin"),
    ]


async def test_a_hold_operations_owns_goes_straight_to_admin(stack: Stack) -> None:
    body = copy.deepcopy(ORDER)
    body["lines"][0]["quantity"] = 60  # over the cap of 50: a limit_review, operations'
    order_id = await stack.place(body)
    response = await stack.client.get("/v1/exceptions", params={"type": "limit_review"})
    (item,) = response.json()["items"]
    assert item["order_id"] == order_id

    await escalate_at(stack, due(item) + timedelta(seconds=1))
    seen = await exception(stack, item["exception_id"])
    assert seen is not None
    assert seen["escalated_to"] == "admin"


async def test_a_decided_hold_never_escalates(stack: Stack) -> None:
    item = await fraud_review(stack)
    decided = await act(stack, item["exception_id"], "resolve", OLA, decision="release", note="ok")
    assert decided.status_code == 200, decided.text

    await escalate_at(stack, due(item) + timedelta(days=2))
    seen = await exception(stack, item["exception_id"], status="resolved")
    assert seen is not None
    assert seen["escalated_to"] is None
    assert await escalations(stack, item["order_id"]) == []
