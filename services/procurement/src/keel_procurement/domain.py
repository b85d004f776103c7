"""Purchasing rules without I/O: the purchase-order lifecycle, approvals, receiving tolerance
and how a supplier's delivery record is measured."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

SECONDS_PER_DAY = Decimal(86_400)


class Status(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENT = "sent"
    CONFIRMED = "confirmed"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    APPROVE = "approve"
    SEND = "send"
    CONFIRM = "confirm"
    RECEIVE = "receive"
    CANCEL = "cancel"
    CLOSE = "close"


# The statuses each action is allowed from. Goods may arrive before the supplier confirms, so a
# sent order can be received; once anything is received the order can only be closed, never
# cancelled (the goods are on our shelves).
ALLOWED_FROM: dict[Action, frozenset[Status]] = {
    Action.APPROVE: frozenset({Status.DRAFT}),
    Action.SEND: frozenset({Status.APPROVED}),
    Action.CONFIRM: frozenset({Status.SENT}),
    Action.RECEIVE: frozenset({Status.SENT, Status.CONFIRMED, Status.PARTIALLY_RECEIVED}),
    Action.CANCEL: frozenset({Status.DRAFT, Status.APPROVED, Status.SENT, Status.CONFIRMED}),
    Action.CLOSE: frozenset({Status.PARTIALLY_RECEIVED, Status.RECEIVED}),
}


class IllegalTransition(ValueError):
    pass


def check_action(action: Action, status: Status) -> None:
    """Refuse an action the purchase order's status does not allow, saying what would."""
    allowed = ALLOWED_FROM[action]
    if status not in allowed:
        options = ", ".join(sorted(allowed))
        raise IllegalTransition(
            f"cannot {action} a purchase order that is {status} (only one that is {options})"
        )


def approvals_required(total: Decimal, threshold: Decimal) -> int:
    """Two different people must approve an order above the threshold; one otherwise."""
    return 2 if total > threshold else 1


def receivable_limit(ordered: int, tolerance: Decimal) -> int:
    """Most units a line may reach in total: the ordered quantity plus the over-tolerance."""
    return math.floor(Decimal(ordered) * (1 + tolerance))


def status_after_receipt(lines: Iterable[tuple[int, int]]) -> Status:
    """Given (ordered, received) per line: received once every line has its ordered units."""
    return (
        Status.RECEIVED
        if all(received >= ordered for ordered, received in lines)
        else Status.PARTIALLY_RECEIVED
    )


def merge_lines(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """One quantity per SKU, in order of first mention (a receipt may name a SKU twice)."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, 0) + quantity
    return merged


def total(lines: Iterable[tuple[int, Decimal]]) -> Decimal:
    return sum((Decimal(quantity) * unit_cost for quantity, unit_cost in lines), Decimal(0))


def short_lines(ordered: Mapping[str, int], received: Mapping[str, int]) -> dict[str, int]:
    """Units ordered but not received, per SKU, for the lines that fell short."""
    return {
        sku: quantity - received.get(sku, 0)
        for sku, quantity in ordered.items()
        if quantity > received.get(sku, 0)
    }


def amount(value: Decimal) -> Decimal:
    """Money as it is shown: cents always, sub-cent digits only when there are some (a unit cost
    may have four), so an amount reads the same whether just computed or read back."""
    exact = value.quantize(Decimal("0.0001"), ROUND_HALF_UP)
    cents = exact.quantize(Decimal("0.01"))
    return cents if cents == exact else exact


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time Keel stores is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Arrival:
    """One purchase order's delivery: when it was sent, the date the supplier promised (if it
    confirmed), and when its first goods arrived."""

    sent_at: datetime
    expected_date: date | None
    first_received_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    measured_lead_time_days: Decimal | None
    on_time_rate: Decimal | None
    orders_measured: int


def delivery_record(arrivals: Iterable[Arrival], stated_lead_time_days: int) -> DeliveryRecord:
    """Mean days from sending an order to its first goods arriving, and the share that arrived
    on time: by the confirmed date, or, unconfirmed, within the supplier's stated lead time."""
    days: list[Decimal] = []
    on_time = 0
    for arrival in arrivals:
        sent_at = as_utc(arrival.sent_at)
        received_at = as_utc(arrival.first_received_at)
        days.append(Decimal((received_at - sent_at).total_seconds()) / SECONDS_PER_DAY)
        due = arrival.expected_date or (sent_at + timedelta(days=stated_lead_time_days)).date()
        on_time += received_at.date() <= due
    if not days:
        return DeliveryRecord(None, None, 0)
    mean = (sum(days, Decimal(0)) / len(days)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    rate = (Decimal(on_time) / len(days)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return DeliveryRecord(mean, rate, len(days))
