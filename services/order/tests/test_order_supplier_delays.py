"""Service tests of supplier delays: procurement's purchase_order.delayed puts a supplier_delay
notice on the backordered orders waiting for its SKUs. The notice is owned by customer service,
refers to the purchase order and never stops the order: stock arriving confirms it as usual and
closes the notice."""

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

from keel_contracts import Message
from keel_contracts.events import (
    Allocation,
    ItemRegistered,
    PaymentHeld,
    PurchaseOrderDelayed,
    StockReservationFailed,
    StockReserved,
)
from keel_contracts.roles import Role
from keel_contracts.values import Line, Money
from order_harness import ORDER, authorized, running_order
from order_harness import Stack as OrderStack

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


class Stack(OrderStack):
    """The order service's test stack, with the doors these tests go through."""

    async def backordered(self, external_id: str, *lines: tuple[str, int]) -> str:
        """An order (of `lines`, a mug by default) inventory could not serve yet."""
        body = copy.deepcopy(ORDER)
        body["external_id"] = external_id
        if lines:
            body["lines"] = [{"sku": sku, "quantity": n, "unit_price": "12.50"} for sku, n in lines]
        order_id = await self.place(body)
        await self.publish(short(order_id, *(lines or (("MUG-1", 2),))))
        assert (await self.order(order_id))["status"] == "backordered"
        return order_id

    async def queue(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get("/v1/exceptions", params=params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def notices(self, order_id: str) -> list[dict[str, Any]]:
        order = await self.order(order_id)
        return [h for h in order["holds"] if h["type"] == "supplier_delay"]

    async def resolve(
        self,
        order_id: str,
        hold_id: int,
        decision: str,
        note: str = "customer told",
        *,
        role: Role = Role.CUSTOMER_SERVICE,  # who owns a supplier_delay
    ) -> httpx.Response:
        """Resolve as kim, a person in `role`."""
        return await self.client.post(
            f"/v1/orders/{order_id}/holds/{hold_id}/resolve",
            json={"decision": decision, "note": note},
            headers=self.as_person("kim", role),
        )

    async def sent_types(self, order_id: str) -> list[str]:
        return [envelope.type for envelope in await self.sent(order_id)]


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_order(tmp_path, Stack) as stack:
        for sku in ("BOWL-1", "PLATE-1"):
            await stack.publish(
                ItemRegistered(
                    sku=sku, name=sku.title(), unit_cost=Money(amount=Decimal("3"), currency="USD")
                )
            )
        yield stack


def when(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def delayed(
    po_id: str,
    *lines: tuple[str, int],
    previous: str = "2030-05-04",
    expected: str = "2030-06-10",
    supplier_id: str = "SUP-1",
) -> PurchaseOrderDelayed:
    return PurchaseOrderDelayed(
        purchase_order_id=po_id,
        supplier_id=supplier_id,
        location_id="WH-1",
        lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines or (("MUG-1", 40),)),
        previous_expected_at=when(previous),
        expected_at=when(expected),
    )


def short(order_id: str, *lines: tuple[str, int]) -> StockReservationFailed:
    return StockReservationFailed(
        order_id=order_id,
        short_lines=tuple(Line(sku=sku, quantity=n) for sku, n in lines or (("MUG-1", 2),)),
        reason="not enough stock",
        waiting=True,
    )


def reserved(order_id: str, *lines: tuple[str, int]) -> StockReserved:
    return StockReserved(
        order_id=order_id,
        reservation_id=f"r-{order_id}",
        allocations=tuple(
            Allocation(location_id="WH-1", sku=sku, quantity=n)
            for sku, n in lines or (("MUG-1", 2),)
        ),
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


def orders(items: list[dict[str, Any]]) -> list[str]:
    return [item["order_id"] for item in items]


async def apply_batch(stack: Stack, *messages: Message) -> int:
    """Apply the messages as one consumer batch; return how many statements it took, not
    counting the new holds' INSERTs: the ORM writes those in one statement on PostgreSQL
    (insertmanyvalues), but one each on SQLite, which has no implicit sentinel to match the
    ids it returns to the rows."""
    return await stack.statements_to_apply(list(messages), uncounted="INSERT INTO order_hold ")


# --- who gets a notice ---


async def test_a_delay_gives_each_backordered_order_waiting_for_its_skus_a_notice(
    stack: Stack,
) -> None:
    mugs = [await stack.backordered(f"M-{n}") for n in range(2)]
    mixed = await stack.backordered("X-1", ("BOWL-1", 1), ("MUG-1", 1))
    await stack.backordered("B-1", ("BOWL-1", 3))  # another SKU
    validating = await stack.place({**ORDER, "external_id": "V-1"})  # no answer from stock yet
    released = await stack.place({**ORDER, "external_id": "R-1"})
    await stack.publish(reserved(released))
    await stack.publish(authorized(released))

    await stack.publish(delayed("PO-1", ("MUG-1", 40)))

    affected = sorted([*mugs, mixed])
    assert sorted(orders(await stack.queue(type="supplier_delay"))) == affected
    for order_id in affected:
        assert (await stack.order(order_id))["status"] == "backordered"
    assert (await stack.order(validating))["status"] == "validating"
    assert (await stack.order(released))["status"] == "released"
    assert await stack.notices(validating) == await stack.notices(released) == []


async def test_an_order_on_hold_or_with_its_stock_already_reserved_gets_no_notice(
    stack: Stack,
) -> None:
    held = await stack.backordered("H-1")
    await stack.publish(PaymentHeld(order_id=held, reason="issuer asks for review"))
    served = await stack.backordered("S-1")
    await stack.publish(reserved(served))  # the stock came; the payment is still awaited
    assert (await stack.order(served))["status"] == "backordered"

    await stack.publish(delayed("PO-1"))

    assert await stack.queue(type="supplier_delay") == []


async def test_the_notice_names_the_order_supplier_skus_and_dates_for_customer_service(
    stack: Stack,
) -> None:
    order_id = await stack.backordered("X-1", ("PLATE-1", 1), ("MUG-1", 2), ("BOWL-1", 1))

    await stack.publish(delayed("PO-7", ("MUG-1", 40), ("PLATE-1", 9), supplier_id="SUP-3"))

    (item,) = await stack.queue(type="supplier_delay")
    (notice,) = await stack.notices(order_id)
    assert set(item) == {
        "exception_id",
        "hold_id",
        "order_id",
        "priority",
        "claimed_by",
        "claimed_at",
        "type",
        "reason",
        "reference",
        "owner_role",
        "rule_set_version",
        "opened_at",
        "due_at",
        "overdue",
        "resolved_at",
        "resolution",
        "resolution_note",
        "resolved_by",
        "escalated_to",
        "escalated_at",
    }
    assert item["hold_id"] == notice["hold_id"]
    assert (item["order_id"], item["type"], item["owner_role"]) == (
        order_id,
        "supplier_delay",
        "customer_service",
    )
    assert item["reason"] == (
        "supplier SUP-3 delayed purchase order PO-7 from 2030-05-04 to 2030-06-10; "
        "it brings MUG-1, PLATE-1, which this order waits for"
    )
    assert item["reference"] == notice["reference"] == "PO-7"
    assert at(item["due_at"]) - at(item["opened_at"]) == timedelta(hours=24)
    assert (item["overdue"], item["resolved_at"], item["resolution"]) == (False, None, None)
    assert item["rule_set_version"] == (await stack.order(order_id))["rule_set_version"]


async def test_holds_of_other_types_have_no_reference(stack: Stack) -> None:
    order_id = await stack.backordered("H-1")
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))

    (item,) = await stack.queue()
    assert (item["type"], item["reference"]) == ("payment_hold", None)


async def test_one_query_lists_every_order_a_purchase_orders_delay_touches(stack: Stack) -> None:
    mugs = await stack.backordered("M-1")
    bowls = await stack.backordered("B-1", ("BOWL-1", 1))
    both = await stack.backordered("X-1", ("BOWL-1", 1), ("MUG-1", 1))

    await stack.publish(delayed("PO-1", ("MUG-1", 40)))
    await stack.publish(delayed("PO-2", ("BOWL-1", 10)))

    assert sorted(orders(await stack.queue(type="supplier_delay", reference="PO-1"))) == sorted(
        [mugs, both]
    )
    assert sorted(orders(await stack.queue(type="supplier_delay", reference="PO-2"))) == sorted(
        [bowls, both]
    )
    assert await stack.queue(type="supplier_delay", reference="PO-3") == []
    assert sorted(n["reference"] for n in await stack.notices(both)) == ["PO-1", "PO-2"]


@pytest.mark.parametrize("reference", ["", "x" * 101])
async def test_a_bad_reference_filter_is_a_422(stack: Stack, reference: str) -> None:
    response = await stack.client.get("/v1/exceptions", params={"reference": reference})
    assert response.status_code == 422, response.text
    assert "query.reference" in {error["field"] for error in response.json()["errors"]}


# --- a second delay ---


async def test_a_second_delay_of_the_same_purchase_order_renews_the_open_notice(
    stack: Stack,
) -> None:
    order_id = await stack.backordered("M-1")
    await stack.publish(delayed("PO-1", expected="2030-06-10"))
    (first,) = await stack.notices(order_id)

    await stack.publish(delayed("PO-1", previous="2030-06-10", expected="2030-07-01"))

    (notice,) = await stack.notices(order_id)
    assert notice["hold_id"] == first["hold_id"]
    assert notice["reason"] == (
        "supplier SUP-1 delayed purchase order PO-1 from 2030-06-10 to 2030-07-01; "
        "it brings MUG-1, which this order waits for"
    )
    assert at(notice["due_at"]) > at(first["due_at"])
    assert notice["opened_at"] == first["opened_at"]
    assert len(await stack.queue(type="supplier_delay", reference="PO-1")) == 1


async def test_a_delay_after_the_notice_was_closed_opens_a_new_one(stack: Stack) -> None:
    order_id = await stack.backordered("M-1")
    await stack.publish(delayed("PO-1", expected="2030-06-10"))
    (first,) = await stack.notices(order_id)
    assert (await stack.resolve(order_id, first["hold_id"], "release")).status_code == 200

    await stack.publish(delayed("PO-1", previous="2030-06-10", expected="2030-07-01"))

    closed, fresh = await stack.notices(order_id)
    assert (closed["hold_id"], closed["resolution"]) == (first["hold_id"], "release")
    assert (fresh["resolution"], fresh["reference"]) == (None, "PO-1")
    assert "to 2030-07-01" in fresh["reason"]


async def test_a_delay_moved_within_the_day_shows_the_times(stack: Stack) -> None:
    order_id = await stack.backordered("M-1")

    await stack.publish(delayed("PO-1", previous="2030-05-04T08:00", expected="2030-05-04T17:30"))

    (notice,) = await stack.notices(order_id)
    assert "from 2030-05-04 08:00 UTC to 2030-05-04 17:30 UTC" in notice["reason"]


# --- a notice, not a gate ---


async def test_stock_arriving_confirms_the_order_and_closes_its_notice(stack: Stack) -> None:
    order_id = await stack.backordered("M-1")
    await stack.publish(authorized(order_id))
    await stack.publish(delayed("PO-1"))

    await stack.publish(reserved(order_id))

    order = await stack.order(order_id)
    assert order["status"] == "released"
    assert [h["status"] for h in order["history"]][-2:] == ["confirmed", "released"]
    assert (await stack.sent_types(order_id))[-2:] == ["order.confirmed", "order.released"]
    (done,) = await stack.queue(status="resolved", type="supplier_delay")
    assert (done["order_id"], done["resolution"], done["resolved_by"]) == (
        order_id,
        "closed",
        "system",
    )
    assert done["resolution_note"] == "the stock arrived and is reserved"
    assert await stack.queue() == []


async def test_stock_arriving_before_the_payment_closes_the_notice_all_the_same(
    stack: Stack,
) -> None:
    order_id = await stack.backordered("M-1")
    await stack.publish(delayed("PO-1"))

    await stack.publish(reserved(order_id))

    assert (await stack.order(order_id))["status"] == "backordered"  # the payment is awaited
    (notice,) = await stack.notices(order_id)
    assert notice["resolution"] == "closed"
    await stack.publish(authorized(order_id))
    assert (await stack.order(order_id))["status"] == "released"


async def test_an_open_notice_does_not_keep_an_order_on_hold(stack: Stack) -> None:
    order_id = await stack.backordered("M-1")
    await stack.publish(delayed("PO-1"))
    await stack.publish(PaymentHeld(order_id=order_id, reason="issuer asks for review"))
    assert (await stack.order(order_id))["status"] == "on_hold"
    (payment_hold,) = [h for h in await stack.queue() if h["type"] == "payment_hold"]

    response = await stack.resolve(order_id, payment_hold["hold_id"], "release", role=Role.FINANCE)

    assert response.json()["status"] == "backordered"  # waiting for stock again, notice or not
    assert (await stack.notices(order_id))[0]["resolution"] is None
    await stack.publish(authorized(order_id))
    await stack.publish(reserved(order_id))
    assert (await stack.order(order_id))["status"] == "released"


# --- resolving a notice by hand ---


async def test_releasing_a_notice_only_closes_it(stack: Stack) -> None:
    order_id = await stack.backordered("M-1")
    await stack.publish(delayed("PO-1"))
    (notice,) = await stack.notices(order_id)
    before = await stack.sent_types(order_id)
    history = (await stack.order(order_id))["history"]

    response = await stack.resolve(order_id, notice["hold_id"], "release", note="emailed")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "backordered"
    assert (body["hold"]["resolution"], body["hold"]["resolution_note"]) == ("release", "emailed")
    assert body["hold"]["resolved_by"] == "kim"  # the caller, named by no body
    assert body["hold"]["reference"] == "PO-1"
    assert await stack.sent_types(order_id) == before
    assert (await stack.order(order_id))["history"] == history
    assert await stack.queue() == []
    await stack.publish(authorized(order_id))
    await stack.publish(reserved(order_id))
    assert (await stack.order(order_id))["status"] == "released"


async def test_rejecting_a_notice_rejects_the_order_with_its_compensations(stack: Stack) -> None:
    order_id = await stack.backordered("M-1")
    await stack.publish(delayed("PO-1"))
    (notice,) = await stack.notices(order_id)

    response = await stack.resolve(order_id, notice["hold_id"], "reject", note="customer gave up")

    assert response.json()["status"] == "rejected"
    assert (await stack.sent_types(order_id))[-3:] == [
        "order.rejected",
        "stock.release",
        "payment.void",
    ]
    order = await stack.order(order_id)
    assert order["history"][-1]["reason"] == "supplier_delay rejected: customer gave up"


# --- batches ---


async def test_a_delay_in_the_batch_that_backorders_the_order_reaches_it(stack: Stack) -> None:
    order_id = await stack.place({**ORDER, "external_id": "M-1"})

    await apply_batch(stack, short(order_id), delayed("PO-1"))

    (notice,) = await stack.notices(order_id)
    assert notice["reference"] == "PO-1"


async def test_stock_reserved_earlier_in_the_batch_spares_the_order_a_notice(
    stack: Stack,
) -> None:
    order_id = await stack.backordered("M-1")

    await apply_batch(stack, reserved(order_id), delayed("PO-1"))

    assert await stack.notices(order_id) == []


async def test_a_batch_of_delays_costs_about_the_same_statements_for_3_or_30_orders(
    stack: Stack,
) -> None:
    few = [await stack.backordered(f"F-{n}") for n in range(3)]
    many = [await stack.backordered(f"M-{n}", ("BOWL-1", 1)) for n in range(30)]

    for_few = await apply_batch(stack, delayed("PO-1"), delayed("PO-2", ("PLATE-1", 5)))
    for_many = await apply_batch(stack, delayed("PO-3", ("BOWL-1", 5)), delayed("PO-4"))

    assert for_many <= for_few + 2
    assert for_many < len(many)  # far from one round trip per order
    assert len(await stack.queue(type="supplier_delay", reference="PO-3")) == 30
    assert sorted(orders(await stack.queue(reference="PO-4"))) == sorted(few)
