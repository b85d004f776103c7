"""Return rules, free of I/O: what may come back, how much and until when; what was received
and how it was graded; where each grade sends the units; what is refunded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from keel_contracts import money
from keel_contracts.times import as_utc


class ReturnStatus(StrEnum):
    """authorized → received → inspected → [refund_pending_approval →] refund_requested →
    refunded, or closed.

    `inspected` is where a return rests when no refund could be worked out (no unit prices);
    `refund_pending_approval` while its refund waits for a finance approver; `refund_requested`
    once the refund is asked of finance (`refund.requested`), not yet paid; `refunded` once
    finance has paid every refund of the return (`payment.refunded`, perhaps short); `closed`
    straight from `inspected` when nothing was left to refund.
    """

    AUTHORIZED = "authorized"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUND_PENDING_APPROVAL = "refund_pending_approval"
    REFUND_REQUESTED = "refund_requested"
    REFUNDED = "refunded"
    CLOSED = "closed"


class RefundStatus(StrEnum):
    """pending_approval → requested → refunded (finance paid it, perhaps less than requested)."""

    PENDING_APPROVAL = "pending_approval"
    REQUESTED = "requested"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class Clock:
    """Where an item's return window starts: its delivery, or its shipment until delivered."""

    started_at: datetime
    delivered: bool

    def later(self, other: Clock) -> Clock:
        """The clock of the later event: with several shipments of a SKU, the last one counts."""
        return other if as_utc(other.started_at) > as_utc(self.started_at) else self


@dataclass(frozen=True)
class Returnable:
    """What an order can still return of one SKU."""

    sku: str
    shipped: int
    returned: int
    clock: Clock

    @property
    def left(self) -> int:
        return self.shipped - self.returned


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


class ReturnRefused(ValueError):
    """The request about a return is refused; `field` names the part of it at fault."""

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def per_sku(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantities added up per SKU (a shipment or a return may list a SKU on several lines)."""
    totals: dict[str, int] = defaultdict(int)
    for sku, quantity in lines:
        totals[sku] += quantity
    return dict(totals)


def check_return(
    *,
    order_id: str,
    channel: str | None,
    lines: Sequence[RequestedLine],
    items: Mapping[str, Returnable],
    not_returnable: Mapping[str, str],
    window_days: int,
    now: datetime,
) -> None:
    """Raise `ReturnRefused` naming the first line that cannot come back, else return.

    Lines of one SKU add up (a customer may give a reason per unit), so the line that takes the
    total above what is left is the one named.
    """
    if not any(item.shipped > 0 for item in items.values()):
        raise ReturnRefused(f"nothing of order {order_id} has shipped", field="order_id")
    asked: dict[str, int] = defaultdict(int)
    for n, line in enumerate(lines):
        item = items.get(line.sku)
        if item is None or item.shipped == 0:
            raise ReturnRefused(
                f"sku {line.sku} was not shipped on order {order_id}", field=f"lines.{n}.sku"
            )
        if line.sku in not_returnable:
            raise ReturnRefused(
                f"sku {line.sku} is not returnable: {not_returnable[line.sku]}",
                field=f"lines.{n}.sku",
            )
        closes_at = as_utc(item.clock.started_at) + timedelta(days=window_days)
        if now > closes_at:
            since = "delivery" if item.clock.delivered else "shipment"
            raise ReturnRefused(
                f"the return window of sku {line.sku} ({window_days} days from {since} for "
                f"channel {channel or 'unknown'}) closed at {closes_at.isoformat()}",
                field=f"lines.{n}.sku",
            )
        asked[line.sku] += line.quantity
        if asked[line.sku] > item.left:
            before = asked[line.sku] - line.quantity
            can = max(item.left - before, 0)
            raise ReturnRefused(
                f"quantity {line.quantity} of sku {line.sku} is more than can be returned: "
                f"{can} (shipped {item.shipped}, already returned {item.returned}"
                + (f", {before} on earlier lines" if before else "")
                + ")",
                field=f"lines.{n}.quantity",
            )


class StepRefused(ValueError):
    """The return (or refund) is not in a state that allows the step: a conflict, not bad input."""


# The steps of a return and the one status each may start from.
STEPS: Mapping[str, ReturnStatus] = {
    "record a receipt": ReturnStatus.AUTHORIZED,
    "record an inspection": ReturnStatus.RECEIVED,
    "record the refund paid": ReturnStatus.REFUND_REQUESTED,
}


def require_step(return_id: str, status: str, step: str) -> None:
    """Raise `StepRefused` unless a return in `status` may take `step`."""
    allowed = STEPS[step]
    if status != allowed:
        raise StepRefused(
            f"return {return_id} is {status}: can {step} only on a return that is {allowed}"
        )


# --- receipt and inspection ---


class Grade(StrEnum):
    A = "A"  # as new: resell
    B = "B"  # opened or marked: refurbish, then resell
    C = "C"  # damaged
    D = "D"  # beyond use: dispose


class Disposition(StrEnum):
    RESTOCK = "restock"  # to sellable
    REFURBISH = "refurbish"  # to a refurbishment location
    DAMAGED = "damaged"  # to damaged / quarantine
    WRITE_OFF = "write_off"  # written off


@dataclass(frozen=True)
class GradePolicy:
    disposition: Disposition
    restocking_fee: Decimal  # share of the units' price kept back from the refund


# Where each grade sends the units and what it costs the customer. Only grade B carries a fee:
# the customer opened or used the item and it needs work before it sells again. C and D are
# charged nothing, as damage usually came from the carrier or a defect, not the customer.
GRADES: Mapping[Grade, GradePolicy] = {
    Grade.A: GradePolicy(Disposition.RESTOCK, Decimal("0")),
    Grade.B: GradePolicy(Disposition.REFURBISH, Decimal("0.10")),
    Grade.C: GradePolicy(Disposition.DAMAGED, Decimal("0")),
    Grade.D: GradePolicy(Disposition.WRITE_OFF, Decimal("0")),
}


@dataclass(frozen=True)
class GradedLine:
    sku: str
    quantity: int
    grade: Grade


def check_receipt(lines: Sequence[RequestedLine], authorized: Mapping[str, int]) -> dict[str, int]:
    """The received quantities per SKU, or `ReturnRefused` naming the first line at fault.

    Fewer units than authorized may arrive (the rest never came); more may not.
    """
    received: dict[str, int] = defaultdict(int)
    for n, line in enumerate(lines):
        if line.sku not in authorized:
            raise ReturnRefused(
                f"sku {line.sku} is not on the return authorization", field=f"lines.{n}.sku"
            )
        before = received[line.sku]
        received[line.sku] += line.quantity
        if received[line.sku] > authorized[line.sku]:
            raise ReturnRefused(
                f"quantity {line.quantity} of sku {line.sku} is more than authorized: "
                f"{authorized[line.sku] - before} (authorized {authorized[line.sku]}"
                + (f", {before} on earlier lines" if before else "")
                + ")",
                field=f"lines.{n}.quantity",
            )
    return dict(received)


def check_inspection(
    lines: Sequence[GradedLine], received: Mapping[str, int]
) -> dict[tuple[str, Grade], int]:
    """Units per (SKU, grade), or `ReturnRefused`: no SKU that was not received, no more units
    graded than received, and every received unit graded."""
    graded: dict[tuple[str, Grade], int] = defaultdict(int)
    per_sku_graded: dict[str, int] = defaultdict(int)
    for n, line in enumerate(lines):
        if received.get(line.sku, 0) == 0:
            raise ReturnRefused(f"sku {line.sku} was not received", field=f"lines.{n}.sku")
        before = per_sku_graded[line.sku]
        per_sku_graded[line.sku] += line.quantity
        if per_sku_graded[line.sku] > received[line.sku]:
            raise ReturnRefused(
                f"grade {line.grade} on {line.quantity} units of sku {line.sku} is more than "
                f"received and not yet graded: {received[line.sku] - before} "
                f"(received {received[line.sku]}"
                + (f", {before} graded on earlier lines" if before else "")
                + ")",
                field=f"lines.{n}.quantity",
            )
        graded[(line.sku, line.grade)] += line.quantity
    for sku, quantity in received.items():
        if per_sku_graded[sku] < quantity:
            raise ReturnRefused(
                f"every received unit must be graded: sku {sku} received {quantity}, "
                f"graded {per_sku_graded[sku]}",
                field="lines",
            )
    return dict(graded)


# --- refunds ---


class ShippingRefund(StrEnum):
    """When the order's shipping charge comes back (once per order at most)."""

    NEVER = "never"
    WHOLE_ORDER = "whole_order"  # when every unit ordered has come back and been graded
    ALWAYS = "always"  # with the order's first refund


class PriceUnknown(ValueError):
    """A refund cannot be worked out: the order's prices never reached this service."""


@dataclass(frozen=True)
class QuotedLine:
    sku: str
    grade: Grade
    quantity: int
    unit_price: Decimal
    restocking_fee: Decimal
    amount: Decimal


@dataclass(frozen=True)
class RefundQuote:
    lines: tuple[QuotedLine, ...]
    goods: Decimal
    restocking_fee: Decimal
    shipping: Decimal
    amount: Decimal  # goods - restocking_fee + shipping, capped
    uncapped: Decimal

    @property
    def capped(self) -> bool:
        return self.amount < self.uncapped


@dataclass(frozen=True)
class OrderMoney:
    """What this service learnt of an order's money from `order.placed`, and what of it has
    been promised back already."""

    currency: str
    total: Decimal
    shipping: Decimal
    unit_prices: Mapping[str, Decimal]
    ordered: Mapping[str, int]
    refunded: Decimal  # by earlier refunds, requested or waiting for approval
    shipping_refunded: bool


def whole_order_returned(ordered: Mapping[str, int], graded: Mapping[str, int]) -> bool:
    """Every unit ordered has come back (graded on this order's returns)."""
    return bool(ordered) and all(graded.get(sku, 0) >= q for sku, q in ordered.items())


def quote_refund(
    *,
    graded: Mapping[tuple[str, Grade], int],
    order: OrderMoney,
    whole_order: bool,
    shipping_policy: ShippingRefund,
) -> RefundQuote:
    """Unit price x quantity per graded line, less the grade's restocking fee (rounded per line
    as a charge is, `money.charge`: half-up, to the cent or the whole yen), plus shipping as the
    policy says; never more than the order total leaves after earlier refunds (`money.cap`)."""
    lines = []
    for (sku, grade), quantity in sorted(graded.items()):
        price = order.unit_prices.get(sku)
        if price is None:
            raise PriceUnknown(f"the unit price of sku {sku} is unknown")
        goods = money.charge(price * quantity, order.currency)
        fee = money.charge(goods * GRADES[grade].restocking_fee, order.currency)
        lines.append(QuotedLine(sku, grade, quantity, price, fee, goods - fee))
    goods = sum((x.amount + x.restocking_fee for x in lines), Decimal("0"))
    fee = sum((x.restocking_fee for x in lines), Decimal("0"))
    shipping = Decimal("0")
    if not order.shipping_refunded and (
        shipping_policy is ShippingRefund.ALWAYS
        or (shipping_policy is ShippingRefund.WHOLE_ORDER and whole_order)
    ):
        shipping = money.charge(order.shipping, order.currency)
    uncapped = goods - fee + shipping
    left = money.cap(max(order.total - order.refunded, Decimal("0")), order.currency)
    return RefundQuote(tuple(lines), goods, fee, shipping, min(uncapped, left), uncapped)


def needs_approval(order_refunds: Decimal, threshold: Decimal) -> bool:
    """Whether a new refund waits for a finance approver: when the order's refunds, all of them
    (paid, requested or waiting, this one included), come to more than the threshold.

    Counted per order, not per refund, so that returning an order's goods in several returns,
    each refund under the threshold, cannot avoid the approval one return of them all would need.
    """
    return order_refunds > threshold
