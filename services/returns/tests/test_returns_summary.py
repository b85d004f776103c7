"""Service tests: the returns summary on known data, on a real (SQLite) database, with the other
services' events fed through FastStream's in-memory broker and the step times set by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from keel_kit.testing import running
from keel_returns.models import ReturnAuthorization
from returns_harness import Stack as ReturnsStack
from returns_harness import paid, returns_app, usd

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

NOW = datetime.now(UTC).replace(microsecond=0)
OLD = NOW - timedelta(days=20)  # before the window of the windowed summary
SINCE = NOW - timedelta(days=15)
T0 = NOW - timedelta(days=10)
HOUR = timedelta(hours=1)


class Stack(ReturnsStack):
    """The returns service's test stack, with the doors these tests go through."""

    async def inspected(
        self, order_id: str, sku: str, price: str, grade: str, *, received: datetime | None = None
    ) -> dict[str, Any]:
        """A return received and graded; with `received`, as if received then (authorized an
        hour before, inspected a minute after). Its refund, as the view shows it."""
        return_id = await self.returned(order_id, sku, price, grade)
        view = await self.view(return_id)
        if received is not None:
            async with self.db.transaction() as session:
                row = await session.get(ReturnAuthorization, return_id)
                assert row is not None
                row.created_at = received - HOUR
                row.received_at = received
                row.inspected_at = received + timedelta(minutes=1)
                session.add(row)
        [refund] = view["refunds"]
        return dict(refund)

    async def pay(self, refund: dict[str, Any], amount: str, *, at: datetime) -> None:
        await self.publish(paid(refund, amount), at=at)

    async def summary(self, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get_json("/v1/returns/summary", **params)
        return body


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running(returns_app(tmp_path), Stack) as stack:
        yield stack


@pytest_asyncio.fixture
async def known(stack: Stack) -> Stack:
    """Seven returns. Four paid, 100 s, 200 s (short), 400 s and 1000 s after their receipt, the
    first 20 days ago, the others 10 days ago; one waiting for approval, one requested and not
    paid, one only authorized (these three now)."""
    first = await stack.inspected("o-1", "MUG-1", "20.00", "A", received=OLD)
    await stack.pay(first, "20.00", at=OLD + timedelta(seconds=100))
    for order_id, grade, amount, seconds in (
        ("o-2", "B", "15.00", 200),  # 18.00 requested (20.00 less 10%)
        ("o-3", "C", "20.00", 400),
        ("o-4", "D", "20.00", 1000),
    ):
        refund = await stack.inspected(order_id, "MUG-1", "20.00", grade, received=T0)
        await stack.pay(refund, amount, at=T0 + timedelta(seconds=seconds))
    await stack.inspected("o-5", "TV-1", "800.00", "A")  # above the threshold
    await stack.inspected("o-6", "MUG-1", "20.00", "A")  # requested, not yet paid
    await stack.authorized("o-7", "MUG-1", "20.00")
    return stack


async def test_the_summary_of_everything(known: Stack) -> None:
    summary = await known.summary()

    assert summary == {
        "since": None,
        "returns": {
            "total": 7,
            "by_status": {
                "authorized": 1,
                "received": 0,
                "inspected": 0,
                "refund_pending_approval": 1,
                "refund_requested": 1,
                "refunded": 4,
                "closed": 0,
            },
        },
        "units_by_grade": {"A": 3, "B": 1, "C": 1, "D": 1},
        "refunds": {
            "issued": 4,
            "short": 1,
            "requested": [usd("78.00")],
            "refunded": [usd("75.00")],
            "shortfall": [usd("3.00")],
            "awaiting_approval": 1,
            "awaiting_approval_amount": [usd("800.00")],
        },
        "processing": {
            "returns": 4,
            # 100, 200, 400, 1000 s: p50 halfway between 200 and 400; p95 at rank 2.85.
            "receipt_to_refund_seconds": {"p50": 300.0, "p95": 910.0},
            # an hour more each: 3700, 3800, 4000, 4600 s
            "authorization_to_refund_seconds": {"p50": 3900.0, "p95": 4510.0},
        },
    }


async def test_the_summary_since_a_moment_leaves_earlier_returns_out(known: Stack) -> None:
    summary = await known.summary(since=SINCE.astimezone(timezone(HOUR)).isoformat())

    assert datetime.fromisoformat(summary["since"]) == SINCE
    assert summary["since"].endswith("Z")
    assert summary["returns"]["total"] == 6
    assert summary["returns"]["by_status"]["refunded"] == 3
    assert summary["units_by_grade"] == {"A": 2, "B": 1, "C": 1, "D": 1}
    refunds = summary["refunds"]
    assert (refunds["issued"], refunds["requested"], refunds["refunded"], refunds["shortfall"]) == (
        3,
        [usd("58.00")],
        [usd("55.00")],
        [usd("3.00")],
    )
    assert (refunds["awaiting_approval"], refunds["awaiting_approval_amount"]) == (
        1,
        [usd("800.00")],
    )
    # 200, 400, 1000 s: p50 is the middle one, p95 at rank 1.9.
    assert summary["processing"] == {
        "returns": 3,
        "receipt_to_refund_seconds": {"p50": 400.0, "p95": 940.0},
        "authorization_to_refund_seconds": {"p50": 4000.0, "p95": 4540.0},
    }


async def test_a_zoneless_since_is_utc(known: Stack) -> None:
    zoneless = await known.summary(since=SINCE.replace(tzinfo=None).isoformat())

    assert zoneless == await known.summary(since=SINCE.isoformat())
    assert zoneless["processing"]["returns"] == 3


async def test_the_summary_of_nothing_has_every_status_and_grade_at_zero(stack: Stack) -> None:
    assert await stack.summary() == {
        "since": None,
        "returns": {
            "total": 0,
            "by_status": {
                "authorized": 0,
                "received": 0,
                "inspected": 0,
                "refund_pending_approval": 0,
                "refund_requested": 0,
                "refunded": 0,
                "closed": 0,
            },
        },
        "units_by_grade": {"A": 0, "B": 0, "C": 0, "D": 0},
        "refunds": {
            "issued": 0,
            "short": 0,
            "requested": [],
            "refunded": [],
            "shortfall": [],
            "awaiting_approval": 0,
            "awaiting_approval_amount": [],
        },
        "processing": {
            "returns": 0,
            "receipt_to_refund_seconds": {"p50": None, "p95": None},
            "authorization_to_refund_seconds": {"p50": None, "p95": None},
        },
    }


async def test_a_since_that_is_no_moment_is_a_422(stack: Stack) -> None:
    response = await stack.client.get("/v1/returns/summary", params={"since": "yesterday"})

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.since"
