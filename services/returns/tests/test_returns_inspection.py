"""Service tests: receipt, inspection and grading, and refunds of a return, on a real (SQLite)
database, with the order service's and fulfillment's events fed through FastStream's in-memory
broker."""

from __future__ import annotations

import httpx
import pytest

from returns_harness import Stack, usd

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


def refusal(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    return error["field"], error["message"]


def conflict(response: httpx.Response) -> str:
    assert response.status_code == 409, response.text
    detail: str = response.json()["detail"]
    return detail


async def test_a_whole_order_comes_back_graded_and_refunded_with_shipping(stack: Stack) -> None:
    await stack.order(
        "o-1", ("MUG-1", 2, "20.00"), ("CUP-1", 1, "15.00"), shipping="5.00", total="60.00"
    )
    return_id = await stack.authorize("o-1", ("MUG-1", 2), ("CUP-1", 1))

    received = await stack.receive(return_id, ("MUG-1", 2), ("CUP-1", 1))
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "received"
    inspected = await stack.inspect(
        return_id, ("MUG-1", 1, "A"), ("MUG-1", 1, "B"), ("CUP-1", 1, "D")
    )

    assert inspected.status_code == 200, inspected.text
    view = await stack.view(return_id)
    assert inspected.json() == view
    assert (view["status"], view["location_id"], view["note"]) == ("refund_requested", "WH-R", None)
    assert view["items"] == [
        {
            "sku": "MUG-1",
            "authorized": 2,
            "received": 2,
            "graded": [
                {"grade": "A", "quantity": 1, "disposition": "restock"},
                {"grade": "B", "quantity": 1, "disposition": "refurbish"},
            ],
        },
        {
            "sku": "CUP-1",
            "authorized": 1,
            "received": 1,
            "graded": [{"grade": "D", "quantity": 1, "disposition": "write_off"}],
        },
    ]
    [refund] = view["refunds"]
    # 2 x 20.00 + 15.00 goods, 10% of grade B's 20.00 kept, shipping back (the whole order).
    assert (refund["status"], refund["amount"], refund["capped"]) == (
        "requested",
        usd("58.00"),
        False,
    )
    assert (refund["goods"], refund["restocking_fee"], refund["shipping"]) == (
        usd("55.00"),
        usd("2.00"),
        usd("5.00"),
    )

    events = await stack.sent()
    assert [e.type for e in events] == [
        "return.authorized",
        "return.received",
        "return.inspected",
        "refund.requested",
    ]
    assert all(e.correlation_id == "o-1" for e in events)
    _, received_event, inspected_event, refund_event = events
    assert received_event.payload == {
        "return_id": return_id,
        "order_id": "o-1",
        "location_id": "WH-R",
        "lines": [{"sku": "MUG-1", "quantity": 2}, {"sku": "CUP-1", "quantity": 1}],
    }
    assert inspected_event.payload == {
        "return_id": return_id,
        "order_id": "o-1",
        "location_id": "WH-R",
        "lines": [
            {"sku": "CUP-1", "quantity": 1, "grade": "D", "disposition": "write_off"},
            {"sku": "MUG-1", "quantity": 1, "grade": "A", "disposition": "restock"},
            {"sku": "MUG-1", "quantity": 1, "grade": "B", "disposition": "refurbish"},
        ],
    }
    assert refund_event.payload == {
        "refund_id": refund["refund_id"],
        "return_id": return_id,
        "order_id": "o-1",
        "amount": usd("58.00"),
        "goods": usd("55.00"),
        "restocking_fee": usd("2.00"),
        "shipping": usd("5.00"),
        "approver": None,
        "lines": [
            {
                "sku": "CUP-1",
                "quantity": 1,
                "grade": "D",
                "unit_price": usd("15.00"),
                "restocking_fee": usd("0.00"),
                "amount": usd("15.00"),
            },
            {
                "sku": "MUG-1",
                "quantity": 1,
                "grade": "A",
                "unit_price": usd("20.00"),
                "restocking_fee": usd("0.00"),
                "amount": usd("20.00"),
            },
            {
                "sku": "MUG-1",
                "quantity": 1,
                "grade": "B",
                "unit_price": usd("20.00"),
                "restocking_fee": usd("2.00"),
                "amount": usd("18.00"),
            },
        ],
    }


async def test_part_of_an_order_is_refunded_without_shipping(stack: Stack) -> None:
    await stack.order("o-2", ("MUG-1", 3, "19.99"), shipping="4.95", total="64.92")
    return_id = await stack.authorize("o-2", ("MUG-1", 2))
    await stack.receive(return_id, ("MUG-1", 2))

    await stack.inspect(return_id, ("MUG-1", 2, "B"))

    [refund] = (await stack.view(return_id))["refunds"]
    # 39.98 less 10% (3.998, rounded to the cent), and no shipping: one mug stays.
    assert (refund["amount"], refund["restocking_fee"], refund["shipping"]) == (
        usd("35.98"),
        usd("4.00"),
        usd("0.00"),
    )


async def test_more_than_authorized_is_not_received_naming_the_line(stack: Stack) -> None:
    await stack.order("o-3", ("MUG-1", 2, "20.00"), ("CUP-1", 1, "15.00"), total="55.00")
    return_id = await stack.authorize("o-3", ("MUG-1", 2))

    too_many = await stack.receive(return_id, ("MUG-1", 1), ("MUG-1", 2))
    other_sku = await stack.receive(return_id, ("CUP-1", 1))

    assert refusal(too_many) == (
        "lines.1.quantity",
        "quantity 2 of sku MUG-1 is more than authorized: 1 (authorized 2, 1 on earlier lines)",
    )
    assert refusal(other_sku) == ("lines.0.sku", "sku CUP-1 is not on the return authorization")
    assert (await stack.view(return_id))["status"] == "authorized"
    assert await stack.sent("return.received") == []


async def test_fewer_units_than_authorized_may_arrive(stack: Stack) -> None:
    await stack.order("o-4", ("MUG-1", 3, "20.00"), total="60.00")
    return_id = await stack.authorize("o-4", ("MUG-1", 3))

    assert (await stack.receive(return_id, ("MUG-1", 1))).status_code == 200

    [item] = (await stack.view(return_id))["items"]
    assert (item["authorized"], item["received"], item["graded"]) == (3, 1, [])


async def test_grades_on_more_units_than_received_are_refused_naming_the_line(
    stack: Stack,
) -> None:
    await stack.order("o-5", ("MUG-1", 2, "20.00"), ("CUP-1", 1, "15.00"), total="55.00")
    return_id = await stack.authorize("o-5", ("MUG-1", 2), ("CUP-1", 1))
    await stack.receive(return_id, ("MUG-1", 2))

    over = await stack.inspect(return_id, ("MUG-1", 2, "A"), ("MUG-1", 1, "C"))
    not_received = await stack.inspect(return_id, ("MUG-1", 2, "A"), ("CUP-1", 1, "A"))
    short = await stack.inspect(return_id, ("MUG-1", 1, "A"))
    bad_grade = await stack.inspect(return_id, ("MUG-1", 2, "E"))

    assert refusal(over) == (
        "lines.1.quantity",
        "grade C on 1 units of sku MUG-1 is more than received and not yet graded: 0 "
        "(received 2, 2 graded on earlier lines)",
    )
    assert refusal(not_received) == ("lines.1.sku", "sku CUP-1 was not received")
    assert refusal(short) == (
        "lines",
        "every received unit must be graded: sku MUG-1 received 2, graded 1",
    )
    assert refusal(bad_grade)[0] == "lines.0.grade"
    view = await stack.view(return_id)
    assert (view["status"], view["refunds"]) == ("received", [])
    assert await stack.sent("return.inspected", "refund.requested") == []


async def test_a_refund_above_the_threshold_waits_for_approval(stack: Stack) -> None:
    await stack.order("o-6", ("TV-1", 1, "800.00"), total="800.00")
    return_id = await stack.authorize("o-6", ("TV-1", 1))
    await stack.receive(return_id, ("TV-1", 1))

    await stack.inspect(return_id, ("TV-1", 1, "A"))

    view = await stack.view(return_id)
    [refund] = view["refunds"]
    assert (view["status"], refund["status"], refund["amount"]) == (
        "refund_pending_approval",
        "pending_approval",
        usd("800.00"),
    )
    assert view["note"] == (
        f"refund {refund['refund_id']} of 800.00 USD is above the approval threshold 500.00: "
        "waiting for a finance approver"
    )
    assert await stack.sent("refund.requested") == []

    nobody = await stack.approve(refund["refund_id"], {"approver": "  "})
    assert refusal(nobody)[0] == "approver"
    approved = await stack.approve(refund["refund_id"])

    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approver"]) == ("requested", "fiona")
    assert approved.json()["approved_at"] is not None
    [event] = await stack.sent("refund.requested")
    assert (event.payload["refund_id"], event.payload["amount"], event.payload["approver"]) == (
        refund["refund_id"],
        usd("800.00"),
        "fiona",
    )
    view = await stack.view(return_id)
    assert (view["status"], view["note"]) == ("refund_requested", None)

    assert conflict(await stack.approve(refund["refund_id"])) == (
        f"refund {refund['refund_id']} is requested: only a refund pending approval can be approved"
    )
    assert len(await stack.sent("refund.requested")) == 1


async def test_a_refund_at_the_threshold_goes_at_once(stack: Stack) -> None:
    await stack.order("o-7", ("TV-1", 1, "500.00"), total="500.00")
    return_id = await stack.authorize("o-7", ("TV-1", 1))
    await stack.receive(return_id, ("TV-1", 1))

    await stack.inspect(return_id, ("TV-1", 1, "A"))

    assert (await stack.view(return_id))["status"] == "refund_requested"
    [event] = await stack.sent("refund.requested")
    assert event.payload["amount"] == usd("500.00")


async def test_refunds_never_exceed_the_order_total_less_earlier_refunds(stack: Stack) -> None:
    # A 20.00 discount: the customer paid 90.00 for 2 x 50.00 plus 10.00 shipping.
    await stack.order("o-8", ("MUG-1", 2, "50.00"), shipping="10.00", total="90.00")
    first = await stack.authorize("o-8", ("MUG-1", 1))
    second = await stack.authorize("o-8", ("MUG-1", 1))
    for return_id in (first, second):
        await stack.receive(return_id, ("MUG-1", 1))
        await stack.inspect(return_id, ("MUG-1", 1, "A"))

    [one] = (await stack.view(first))["refunds"]
    [two] = (await stack.view(second))["refunds"]
    assert (one["amount"], one["capped"]) == (usd("50.00"), False)
    # 50.00 + 10.00 shipping (the order is now back whole), cut to the 40.00 left of 90.00.
    assert (two["goods"], two["shipping"], two["amount"], two["capped"]) == (
        usd("50.00"),
        usd("10.00"),
        usd("40.00"),
        True,
    )
    amounts = [e.payload["amount"] for e in await stack.sent("refund.requested")]
    assert amounts == [usd("50.00"), usd("40.00")]


async def test_a_refund_waiting_for_approval_counts_against_the_total(stack: Stack) -> None:
    await stack.order("o-9", ("TV-1", 2, "600.00"), total="1000.00")
    first = await stack.authorize("o-9", ("TV-1", 1))
    second = await stack.authorize("o-9", ("TV-1", 1))
    for return_id in (first, second):
        await stack.receive(return_id, ("TV-1", 1))
        await stack.inspect(return_id, ("TV-1", 1, "A"))

    [one] = (await stack.view(first))["refunds"]
    [two] = (await stack.view(second))["refunds"]
    assert (one["status"], one["amount"]) == ("pending_approval", usd("600.00"))
    # Capped to what the first leaves, and waiting too: the order's refunds pass the threshold.
    assert (two["status"], two["amount"], two["capped"]) == (
        "pending_approval",
        usd("400.00"),
        True,
    )


async def test_nothing_left_to_refund_closes_the_return(stack: Stack) -> None:
    await stack.order("o-10", ("MUG-1", 2, "50.00"), shipping="0.00", total="50.00")
    first = await stack.authorize("o-10", ("MUG-1", 1))
    second = await stack.authorize("o-10", ("MUG-1", 1))
    for return_id in (first, second):
        await stack.receive(return_id, ("MUG-1", 1))
        await stack.inspect(return_id, ("MUG-1", 1, "A"))

    view = await stack.view(second)
    assert (view["status"], view["refunds"]) == ("closed", [])
    assert view["note"] == (
        "nothing left to refund: earlier refunds of order o-10 already reach its total 50.00 USD"
    )
    assert len(await stack.sent("refund.requested")) == 1
    assert len(await stack.sent("return.inspected")) == 2


async def test_without_prices_the_return_rests_inspected_and_says_why(stack: Stack) -> None:
    await stack.order("o-11", ("MUG-1", 1, None), total="20.00", shipping=None)
    return_id = await stack.authorize("o-11", ("MUG-1", 1))
    await stack.receive(return_id, ("MUG-1", 1))

    await stack.inspect(return_id, ("MUG-1", 1, "C"))

    view = await stack.view(return_id)
    assert (view["status"], view["refunds"]) == ("inspected", [])
    assert view["note"] == (
        "no refund worked out: the unit price of sku MUG-1 is unknown (order.placed carried "
        "no price)"
    )
    [event] = await stack.sent("return.inspected")
    assert event.payload["lines"] == [
        {"sku": "MUG-1", "quantity": 1, "grade": "C", "disposition": "damaged"}
    ]


async def test_steps_out_of_order_are_conflicts(stack: Stack) -> None:
    await stack.order("o-12", ("MUG-1", 1, "20.00"), total="20.00")
    return_id = await stack.authorize("o-12", ("MUG-1", 1))

    early = await stack.inspect(return_id, ("MUG-1", 1, "A"))
    await stack.receive(return_id, ("MUG-1", 1))
    again = await stack.receive(return_id, ("MUG-1", 1))
    await stack.inspect(return_id, ("MUG-1", 1, "A"))
    regrade = await stack.inspect(return_id, ("MUG-1", 1, "B"))

    assert conflict(early) == (
        f"return {return_id} is authorized: can record an inspection only on a return that "
        "is received"
    )
    assert conflict(again) == (
        f"return {return_id} is received: can record a receipt only on a return that is authorized"
    )
    assert conflict(regrade) == (
        f"return {return_id} is refund_requested: can record an inspection only on a return "
        "that is received"
    )
    assert [e.type for e in await stack.sent()] == [
        "return.authorized",
        "return.received",
        "return.inspected",
        "refund.requested",
    ]


async def test_unknown_returns_and_refunds_are_not_found(stack: Stack) -> None:
    receipt = await stack.receive("nope", ("MUG-1", 1))
    approval = await stack.approve("nope")

    assert (receipt.status_code, receipt.json()["detail"]) == (404, "no return nope")
    assert (approval.status_code, approval.json()["detail"]) == (404, "no refund nope")


async def test_a_repeated_receipt_with_its_key_replays_the_answer(stack: Stack) -> None:
    await stack.order("o-13", ("MUG-1", 1, "20.00"), total="20.00")
    return_id = await stack.authorize("o-13", ("MUG-1", 1))
    body = {"location_id": "WH-R", "lines": [{"sku": "MUG-1", "quantity": 1}]}
    url = f"/v1/returns/{return_id}/receipt"

    first = await stack.client.post(url, json=body, headers={"Idempotency-Key": "r-1"})
    again = await stack.client.post(url, json=body, headers={"Idempotency-Key": "r-1"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert len(await stack.sent("return.received")) == 1
