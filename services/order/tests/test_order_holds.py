"""Service tests of the exception queue and hold resolution: the order API and saga on a real
(SQLite) database, with inventory's and finance's answers fed through FastStream's in-memory
broker, and what the order sends read from its outbox."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlmodel import col, update

from keel_contracts.events import (
    Allocation,
    PaymentAuthorized,
    PaymentHeld,
    StockReservationFailed,
    StockReserved,
)
from keel_contracts.roles import Role
from keel_contracts.values import Line, Money
from keel_order import saga
from keel_order.models import OrderHold
from order_harness import ORDER, running_order
from order_harness import Stack as OrderStack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def risky(external_id: str) -> dict[str, Any]:
    """New customer, high value, shipped abroad: fraud score 110, a fraud_review hold."""
    body = copy.deepcopy(ORDER)
    body["external_id"] = external_id
    body["lines"][0]["unit_price"] = "900.00"
    body["shipping"]["address"]["country"] = "FR"
    return body


def bulky(external_id: str) -> dict[str, Any]:
    """60 units where the cap is 50: a limit_review hold (and no fraud review)."""
    body = copy.deepcopy(ORDER)
    body["external_id"] = external_id
    body["lines"][0]["quantity"] = 60
    return body


def plain(external_id: str) -> dict[str, Any]:
    return {**ORDER, "external_id": external_id}


class Stack(OrderStack):
    """The order service's test stack, with the exception queue's doors."""

    async def holds(self, order_id: str) -> list[dict[str, Any]]:
        holds: list[dict[str, Any]] = (await self.order(order_id))["holds"]
        return holds

    async def hold_id(self, order_id: str, hold_type: str) -> int:
        (hold,) = [h for h in await self.holds(order_id) if h["type"] == hold_type]
        hold_id: int = hold["hold_id"]
        return hold_id

    async def queue(self, **params: Any) -> dict[str, Any]:
        response = await self.client.get("/v1/exceptions", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def resolve(
        self,
        order_id: str,
        hold_id: int,
        decision: str,
        note: str = "checked",
        *,
        by: tuple[str, Role] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """Resolve as the client's admin, or as the person `by` names (user, role)."""
        return await self.client.post(
            f"/v1/orders/{order_id}/holds/{hold_id}/resolve",
            json={"decision": decision, "note": note, **extra},
            headers=self.as_person(*by) if by else None,
        )

    async def sent_types(self, order_id: str) -> list[str]:
        return [envelope.type for envelope in await self.sent(order_id)]

    async def set_due(self, hold_id: int, due_at: datetime) -> None:
        async with self.db.transaction() as session:
            await session.exec(
                update(OrderHold).where(col(OrderHold.id) == hold_id).values(due_at=due_at)
            )


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack) as stack:
        yield stack


def reserved(order_id: str, quantity: int = 2) -> StockReserved:
    return StockReserved(
        order_id=order_id,
        reservation_id=f"r-{order_id}",
        allocations=(Allocation(location_id="WH-1", sku="MUG-1", quantity=quantity),),
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


def authorized(order_id: str, amount: str = "1805.00") -> PaymentAuthorized:
    return PaymentAuthorized(
        order_id=order_id,
        authorization_id=f"a-{order_id}",
        amount=Money(amount=Decimal(amount), currency="USD"),
    )


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


KIM = ("kim", Role.CUSTOMER_SERVICE)  # fraud reviews are customer service's


# --- the queue ---


async def test_a_fraud_hold_is_queued_with_its_owner_sla_and_due_time(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))

    (item,) = (await stack.queue())["items"]
    assert item["order_id"] == order_id
    assert item["hold_id"] == await stack.hold_id(order_id, "fraud_review")
    assert (item["type"], item["owner_role"]) == ("fraud_review", "customer_service")
    assert item["reason"].startswith("fraud score 110")
    assert item["rule_set_version"] == (await stack.order(order_id))["rule_set_version"]
    assert at(item["due_at"]) - at(item["opened_at"]) == timedelta(hours=4)
    assert at(item["due_at"]).utcoffset() == timedelta(0)
    assert item["overdue"] is False
    assert (item["resolved_at"], item["resolution"], item["resolved_by"]) == (None, None, None)


async def test_each_hold_type_gets_its_own_sla(stack: Stack) -> None:
    limit_order = await stack.place(bulky("B-1"))
    payment_order = await stack.place(plain("P-1"))
    await stack.publish(PaymentHeld(order_id=payment_order, reason="issuer asks for review"))
    stuck_order = await stack.place(plain("S-1"))
    await stack.run_job(saga.hold_stuck_validations, validation_timeout=timedelta(0))

    slas = {
        item["order_id"]: (item["type"], at(item["due_at"]) - at(item["opened_at"]))
        for item in (await stack.queue())["items"]
    }
    assert slas == {
        limit_order: ("limit_review", timedelta(hours=8)),
        payment_order: ("payment_hold", timedelta(hours=24)),
        stuck_order: ("validation_timeout", timedelta(hours=1)),
    }


async def test_queue_lists_the_oldest_due_first(stack: Stack) -> None:
    fraud = await stack.place(risky("R-1"))  # due in 4h
    limit = await stack.place(bulky("B-1"))  # due in 8h
    payment = await stack.place(plain("P-1"))
    await stack.publish(PaymentHeld(order_id=payment, reason="review"))  # due in 24h
    late = await stack.place(risky("R-2"))
    await stack.set_due(await stack.hold_id(late, "fraud_review"), datetime.now(UTC))

    items = (await stack.queue())["items"]
    assert [i["order_id"] for i in items] == [late, fraud, limit, payment]
    due = [at(i["due_at"]) for i in items]
    assert due == sorted(due)


async def test_queue_filters_by_owner_role_type_and_status(stack: Stack) -> None:
    fraud = await stack.place(risky("R-1"))
    limit = await stack.place(bulky("B-1"))
    payment = await stack.place(plain("P-1"))
    await stack.publish(PaymentHeld(order_id=payment, reason="review"))
    resolved = await stack.place(risky("R-2"))
    response = await stack.resolve(
        resolved, await stack.hold_id(resolved, "fraud_review"), "release", by=KIM
    )
    assert response.status_code == 200, response.text

    def orders(page: dict[str, Any]) -> list[str]:
        return [item["order_id"] for item in page["items"]]

    assert orders(await stack.queue(owner_role="customer_service")) == [fraud]
    assert orders(await stack.queue(owner_role="operations")) == [limit]
    assert orders(await stack.queue(owner_role="finance")) == [payment]
    assert orders(await stack.queue(owner_role="warehouse")) == []
    assert orders(await stack.queue(type="limit_review")) == [limit]
    assert orders(await stack.queue(type="payment_hold", owner_role="finance")) == [payment]
    assert orders(await stack.queue(type="payment_hold", owner_role="operations")) == []
    (done,) = (await stack.queue(status="resolved"))["items"]
    assert (done["order_id"], done["resolution"], done["resolved_by"]) == (
        resolved,
        "release",
        "kim",
    )
    assert done["resolution_note"] == "checked"
    assert at(done["resolved_at"]) >= at(done["opened_at"])


async def test_queue_pages_with_a_cursor_until_nothing_is_left(stack: Stack) -> None:
    placed = [await stack.place(risky(f"R-{n}")) for n in range(5)]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await stack.queue(**params)
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["order_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == placed  # one SLA, so due order is the order they were held in
    assert (await stack.queue(limit=5))["next_cursor"] is None


async def test_an_open_hold_past_its_due_time_is_overdue(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    hold_id = await stack.hold_id(order_id, "fraud_review")
    await stack.set_due(hold_id, datetime.now(UTC) - timedelta(minutes=1))

    (item,) = (await stack.queue())["items"]
    assert item["overdue"] is True
    assert (await stack.resolve(order_id, hold_id, "release")).json()["hold"]["overdue"] is True
    (done,) = (await stack.queue(status="resolved"))["items"]
    assert done["overdue"] is True  # it was resolved late


async def test_holds_of_an_order_that_has_ended_leave_the_queue(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    cancelled = await stack.client.post(f"/v1/orders/{order_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"

    assert (await stack.queue())["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"owner_role": "janitor"}, "query.owner_role"),
        ({"type": "backorder_review"}, "query.type"),
        ({"status": "closed"}, "query.status"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 201}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "MjAyNi0wMS0wMVQwMDowMDowMHwtMQ"}, "cursor"),  # a position with id -1
        ({"cursor": "OTk5OS0xMi0zMVQyMzo1OTo1OS0wNTowMHwx"}, "cursor"),  # at the calendar's edge
    ],
)
async def test_bad_queue_filter_is_a_422_naming_it(
    stack: Stack, params: dict[str, Any], field: str
) -> None:
    response = await stack.client.get("/v1/exceptions", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {error["field"] for error in response.json()["errors"]}


# --- release ---


async def test_releasing_a_fraud_hold_with_stock_and_payment_confirms_and_releases(
    stack: Stack,
) -> None:
    order_id = await stack.place(risky("R-1"))
    await stack.publish(reserved(order_id))
    await stack.publish(authorized(order_id))
    assert (await stack.order(order_id))["status"] == "on_hold"
    hold_id = await stack.hold_id(order_id, "fraud_review")

    response = await stack.resolve(
        order_id, hold_id, "release", note="customer confirmed by phone", by=KIM
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["order_id"], body["status"]) == (order_id, "released")
    assert body["hold"]["hold_id"] == hold_id
    assert (body["hold"]["resolution"], body["hold"]["resolved_by"]) == ("release", "kim")
    assert body["hold"]["resolution_note"] == "customer confirmed by phone"
    assert body["hold"]["resolved_at"] is not None
    order = await stack.order(order_id)
    assert [h["status"] for h in order["history"]][-3:] == ["on_hold", "confirmed", "released"]
    sent = await stack.sent(order_id)
    assert [e.type for e in sent][-2:] == ["order.confirmed", "order.released"]
    assert sent[-1].payload["allocations"] == [
        {"location_id": "WH-1", "sku": "MUG-1", "quantity": 2}
    ]
    assert (await stack.queue())["items"] == []


async def test_releasing_before_the_answers_resumes_validation(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    hold_id = await stack.hold_id(order_id, "fraud_review")

    response = await stack.resolve(order_id, hold_id, "release", note="known customer")
    assert response.json()["status"] == "validating"
    order = await stack.order(order_id)
    assert order["history"][-1]["reason"] == "fraud_review released: known customer"

    await stack.publish(reserved(order_id))
    await stack.publish(authorized(order_id))
    assert (await stack.order(order_id))["status"] == "released"


async def test_releasing_while_stock_is_awaited_backorders(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    await stack.publish(authorized(order_id))
    await stack.publish(
        StockReservationFailed(
            order_id=order_id,
            short_lines=(Line(sku="MUG-1", quantity=2),),
            reason="short",
            waiting=True,
        )
    )
    assert (await stack.order(order_id))["status"] == "on_hold"

    response = await stack.resolve(
        order_id, await stack.hold_id(order_id, "fraud_review"), "release"
    )
    assert response.json()["status"] == "backordered"
    await stack.publish(reserved(order_id))
    assert (await stack.order(order_id))["status"] == "released"


async def test_an_order_resumes_only_when_its_last_hold_is_released(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    await stack.publish(reserved(order_id))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))
    fraud_hold = await stack.hold_id(order_id, "fraud_review")
    payment_hold = await stack.hold_id(order_id, "payment_hold")

    first = await stack.resolve(order_id, fraud_hold, "release")
    assert first.json()["status"] == "on_hold"
    assert await stack.sent_types(order_id) == [
        "order.placed",
        "stock.reserve",
        "payment.authorize_sealed",
    ]

    second = await stack.resolve(order_id, payment_hold, "release")
    assert second.json()["status"] == "validating"
    await stack.publish(authorized(order_id))
    assert (await stack.order(order_id))["status"] == "released"


async def test_releasing_a_payment_hold_asks_finance_to_authorize(stack: Stack) -> None:
    order_id = await stack.place(plain("P-1"))
    await stack.publish(reserved(order_id))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))
    hold_id = await stack.hold_id(order_id, "payment_hold")

    response = await stack.resolve(order_id, hold_id, "release", note="cardholder verified")

    assert response.json()["status"] == "validating"
    review = (await stack.sent(order_id))[-1]
    assert review.type == "payment.resolve_review"
    assert review.payload == {"order_id": order_id, "approve": True, "note": "cardholder verified"}
    await stack.publish(authorized(order_id, "30.00"))  # finance's answer to the review
    assert (await stack.order(order_id))["status"] == "released"
    assert (await stack.sent_types(order_id))[-2:] == ["order.confirmed", "order.released"]


# --- reject ---


async def test_rejecting_a_fraud_hold_rejects_and_gives_stock_and_payment_back(
    stack: Stack,
) -> None:
    order_id = await stack.place(risky("R-1"))
    await stack.publish(reserved(order_id))
    await stack.publish(authorized(order_id))
    hold_id = await stack.hold_id(order_id, "fraud_review")

    response = await stack.resolve(order_id, hold_id, "reject", note="stolen card reported")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert response.json()["hold"]["resolution"] == "reject"
    sent = await stack.sent(order_id)
    assert [e.type for e in sent][-3:] == ["order.rejected", "stock.release", "payment.void"]
    assert sent[-3].payload["reason"] == "fraud_review rejected: stolen card reported"
    order = await stack.order(order_id)
    assert order["status"] == "rejected"
    assert order["history"][-1]["reason"] == "fraud_review rejected: stolen card reported"


async def test_rejecting_one_hold_closes_the_orders_other_holds(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))
    fraud_hold = await stack.hold_id(order_id, "fraud_review")

    await stack.resolve(order_id, fraud_hold, "reject", by=KIM)

    holds = {h["type"]: h for h in await stack.holds(order_id)}
    assert holds["payment_hold"]["resolution"] == "reject"
    assert holds["payment_hold"]["resolved_at"] is not None
    resolved = (await stack.queue(status="resolved"))["items"]
    by_type = {item["type"]: item for item in resolved}
    assert by_type["payment_hold"]["resolution_note"] == (
        f"order rejected with hold {fraud_hold} (fraud_review)"
    )
    assert by_type["payment_hold"]["resolved_by"] == "kim"
    assert (await stack.queue())["items"] == []
    # Only the payment hold's own rejection goes to finance as a review; here the void does it.
    assert "payment.resolve_review" not in await stack.sent_types(order_id)


async def test_rejecting_a_payment_hold_tells_finance_then_compensates(stack: Stack) -> None:
    order_id = await stack.place(plain("P-1"))
    await stack.publish(reserved(order_id))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))
    hold_id = await stack.hold_id(order_id, "payment_hold")

    response = await stack.resolve(order_id, hold_id, "reject", note="no answer from cardholder")

    assert response.json()["status"] == "rejected"
    sent = await stack.sent(order_id)
    assert [e.type for e in sent][-4:] == [
        "payment.resolve_review",
        "order.rejected",
        "stock.release",
        "payment.void",
    ]
    assert sent[-4].payload == {
        "order_id": order_id,
        "approve": False,
        "note": "no answer from cardholder",
    }


# --- refusals ---


async def test_resolving_a_resolved_hold_again_is_a_conflict(stack: Stack) -> None:
    order_id = await stack.place(bulky("B-1"))
    hold_id = await stack.hold_id(order_id, "limit_review")
    assert (await stack.resolve(order_id, hold_id, "release")).status_code == 200
    before = await stack.sent_types(order_id)

    for decision in ("release", "reject"):
        again = await stack.resolve(order_id, hold_id, decision)
        assert again.status_code == 409, again.text
        assert "already resolved (release)" in again.json()["detail"]
    assert await stack.sent_types(order_id) == before
    assert (await stack.order(order_id))["status"] == "validating"


async def test_resolving_a_hold_of_an_order_that_has_ended_is_a_conflict(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    hold_id = await stack.hold_id(order_id, "fraud_review")
    await stack.client.post(f"/v1/orders/{order_id}/cancel")

    response = await stack.resolve(order_id, hold_id, "release")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"order {order_id} is cancelled; its holds can no longer be resolved"
    )
    [hold] = await stack.holds(order_id)
    assert hold["resolution"] == "closed"  # the cancellation closed it: nothing left to decide


async def test_unknown_order_or_hold_is_a_404(stack: Stack) -> None:
    order_id = await stack.place(risky("R-1"))
    other = await stack.place(risky("R-2"))
    other_hold = await stack.hold_id(other, "fraud_review")

    for path_order, path_hold in (
        ("nope", other_hold),  # no such order
        (order_id, 999_999),  # no such hold
        (order_id, other_hold),  # another order's hold
        (order_id, 2**40),  # beyond any hold id
        (order_id, -1),
    ):
        response = await stack.resolve(path_order, path_hold, "release")
        assert response.status_code == 404, (path_order, path_hold, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await stack.order(other))["status"] == "on_hold"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "approve", "note": "x"}, "decision"),
        ({"decision": "release"}, "note"),
        ({"decision": "release", "note": ""}, "note"),
        ({"decision": "release", "note": "x" * 401}, "note"),
        ({"decision": "release", "note": "x", "resolved_by": ""}, "resolved_by"),
        ({"decision": "release", "note": "x", "priority": "high"}, "priority"),
    ],
)
async def test_bad_resolution_is_a_422_naming_the_field(
    stack: Stack, body: dict[str, Any], field: str
) -> None:
    order_id = await stack.place(risky("R-1"))
    hold_id = await stack.hold_id(order_id, "fraud_review")

    response = await stack.client.post(f"/v1/orders/{order_id}/holds/{hold_id}/resolve", json=body)
    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}
    [hold] = await stack.holds(order_id)
    assert hold["resolved_at"] is None
