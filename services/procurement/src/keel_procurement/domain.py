"""Purchasing rules without I/O: the purchase-order lifecycle, approvals, receiving tolerance
and how a supplier's delivery record is measured; the demand signal (an EWMA of daily demand)
and the reorder-point arithmetic of replenishment."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from statistics import NormalDist

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


# --- demand signal and replenishment ---------------------------------------------------------

STAT_PLACES = Decimal("0.000001")
NUMBER_PLACES = Decimal("0.0001")
# Beyond this many empty days a SKU's EWMA is folded no further: (1 - alpha)^n is then zero to
# the stored precision for any sensible alpha, and a long-dead SKU must not cost a long loop.
MAX_EMPTY_DAYS = 3650


@dataclass(frozen=True)
class DailyDemand:
    """An exponentially weighted mean and variance of daily demand over the closed days, and
    the day still being counted (its units are not folded in until the day is over)."""

    mean: Decimal
    variance: Decimal
    days: int
    open_day: date | None
    open_quantity: int


NO_DEMAND = DailyDemand(Decimal(0), Decimal(0), 0, None, 0)


def fold(state: DailyDemand, units: int, alpha: Decimal) -> DailyDemand:
    """Fold one closed day's units `x` into the EWMA (West / Finch incremental form):
    the first day sets mean = x, variance = 0; after it, with d = x - mean,
    mean' = mean + alpha * d and variance' = (1 - alpha) * (variance + alpha * d^2).
    Both are rounded to six places, so the stored signal is exact and repeatable."""
    x = Decimal(units)
    if state.days == 0:
        return DailyDemand(x, Decimal(0), 1, state.open_day, state.open_quantity)
    d = x - state.mean
    mean = (state.mean + alpha * d).quantize(STAT_PLACES, ROUND_HALF_UP)
    variance = ((1 - alpha) * (state.variance + alpha * d * d)).quantize(STAT_PLACES, ROUND_HALF_UP)
    return DailyDemand(mean, variance, state.days + 1, state.open_day, state.open_quantity)


def close_days_before(state: DailyDemand, day: date, alpha: Decimal) -> DailyDemand:
    """Fold the open day (if it is before `day`) and every empty day up to `day` as zero demand;
    a day without issues is a day nothing sold, not a missing observation."""
    open_day = state.open_day
    if open_day is None or open_day >= day:
        return state
    state = fold(state, state.open_quantity, alpha)
    empty = min((day - open_day).days - 1, MAX_EMPTY_DAYS)
    for _ in range(empty):
        state = fold(state, 0, alpha)
    return DailyDemand(state.mean, state.variance, state.days, None, 0)


def record_issue(state: DailyDemand, day: date, units: int, alpha: Decimal) -> DailyDemand:
    """Count units issued on `day`. A late event (for a day already closed) counts toward the
    open day: the past is not refolded, and its units are not lost."""
    state = close_days_before(state, day, alpha)
    open_day = day if state.open_day is None else state.open_day
    return DailyDemand(
        state.mean, state.variance, state.days, open_day, state.open_quantity + units
    )


class LeadTimeSource(StrEnum):
    MEASURED = "measured"
    STATED = "stated"


@dataclass(frozen=True)
class Replenishment:
    """A replenishment decision with every number that explains it."""

    mean: Decimal
    sigma: Decimal
    lead_time_days: Decimal
    z: Decimal
    reorder_point: Decimal
    order_up_to: Decimal
    position: int
    raw_quantity: int
    quantity: int

    @property
    def needed(self) -> bool:
        return self.quantity > 0


def service_level_z(service_level: Decimal) -> Decimal:
    """Standard normal quantile of the cycle service level (0.95 -> 1.6449)."""
    return Decimal(str(NormalDist().inv_cdf(float(service_level)))).quantize(
        NUMBER_PLACES, ROUND_HALF_UP
    )


def replenish(
    *,
    demand: DailyDemand,
    lead_time_days: Decimal,
    review_days: int,
    service_level: Decimal,
    position: int,
    min_order_qty: int,
    pack_size: int,
) -> Replenishment:
    """Reorder point = mean x L + z x sigma x sqrt(L); order-up-to = reorder point + mean x the
    review period. At or below the reorder point, order up to the level: at least the minimum
    order quantity, rounded up to whole packs. Nothing is ordered when there is nothing to fill
    (no demand and nothing owed)."""
    sigma = demand.variance.sqrt().quantize(NUMBER_PLACES, ROUND_HALF_UP)
    z = service_level_z(service_level)
    reorder_point = (demand.mean * lead_time_days + z * sigma * lead_time_days.sqrt()).quantize(
        NUMBER_PLACES, ROUND_HALF_UP
    )
    order_up_to = (reorder_point + demand.mean * review_days).quantize(NUMBER_PLACES, ROUND_HALF_UP)
    raw = 0
    quantity = 0
    if position <= reorder_point:
        raw = max(math.ceil(order_up_to - position), 0)
        if raw > 0:
            quantity = math.ceil(max(raw, min_order_qty) / pack_size) * pack_size
    return Replenishment(
        mean=demand.mean.quantize(NUMBER_PLACES, ROUND_HALF_UP),
        sigma=sigma,
        lead_time_days=lead_time_days,
        z=z,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        position=position,
        raw_quantity=raw,
        quantity=quantity,
    )
