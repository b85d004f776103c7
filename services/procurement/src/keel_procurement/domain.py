"""Purchasing rules without I/O: the purchase-order lifecycle, approvals, receiving tolerance,
a supplier moving its date, and how a supplier's delivery and fill record are measured; the
demand signal (an EWMA of daily demand) and the reorder-point arithmetic of replenishment."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from statistics import NormalDist

from keel_contracts.times import as_utc

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
# cancelled (the goods are on our shelves). A confirmed or partly received order may be confirmed
# again: the supplier moving its date (see `date_moves_later`).
ALLOWED_FROM: dict[Action, frozenset[Status]] = {
    Action.APPROVE: frozenset({Status.DRAFT}),
    Action.SEND: frozenset({Status.APPROVED}),
    Action.CONFIRM: frozenset({Status.SENT, Status.CONFIRMED, Status.PARTIALLY_RECEIVED}),
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


class EarlierDate(ValueError):
    pass


def date_moves_later(current: date, proposed: date) -> bool:
    """Whether a supplier's new date moves the order later (False: the same date, nothing
    changes). An earlier date is refused: goods that come early are simply received when they
    arrive, and a date pulled forward would only make the order look late when it is not."""
    if proposed < current:
        raise EarlierDate(
            f"expected date {proposed} is before the current {current}: a supplier's date can "
            "only move later (goods that arrive early are simply received)"
        )
    return proposed > current


def approvals_required(total: Decimal, threshold: Decimal) -> int:
    """Two different people must approve an order above the threshold; one otherwise."""
    return 2 if total > threshold else 1


def receivable_limit(ordered: int, tolerance: Decimal) -> int:
    """Most units a line may reach in total: the ordered quantity plus the over-tolerance."""
    return math.floor(Decimal(ordered) * (1 + tolerance))


def status_after_receipt(
    lines: Iterable[tuple[int, int]], under_tolerance: Decimal = Decimal(0)
) -> Status:
    """Given (ordered, received) per line: received once every line is filled, that is within
    `under_tolerance` of its ordered units (0.05: 95 of 100 fills it; the 5 short are not
    waited for, as suppliers round cases and a buyer would not chase them)."""
    return (
        Status.RECEIVED
        if all(received >= filled_at(ordered, under_tolerance) for ordered, received in lines)
        else Status.PARTIALLY_RECEIVED
    )


def filled_at(ordered: int, under_tolerance: Decimal) -> int:
    """Fewest units that fill a line: the ordered quantity less the under-tolerance."""
    return math.ceil(Decimal(ordered) * (1 - under_tolerance))


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


@dataclass(frozen=True)
class Arrival:
    """One purchase order's delivery: when it was sent, the date the supplier first promised (if
    it confirmed), and when its first goods arrived."""

    sent_at: datetime
    promised_date: date | None
    first_received_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """How a supplier delivers, over the `orders_measured` orders that received goods: the mean
    and sample standard deviation of their lead times (days from sending to the first goods;
    no spread under two orders), and the share of them (`orders_on_time`) that came on time."""

    measured_lead_time_days: Decimal | None
    lead_time_spread_days: Decimal | None
    on_time_rate: Decimal | None
    orders_measured: int
    orders_on_time: int


NO_DELIVERIES = DeliveryRecord(None, None, None, 0, 0)
DAY_PLACES = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")


def delivery_record(arrivals: Iterable[Arrival], stated_lead_time_days: int) -> DeliveryRecord:
    """Lead times and punctuality. On time means the first goods arrived by the date the
    supplier first promised: a date it moved later does not make a late delivery on time. An
    order that was never confirmed is judged by the supplier's stated lead time."""
    days: list[Decimal] = []
    on_time = 0
    for arrival in arrivals:
        sent_at = as_utc(arrival.sent_at)
        received_at = as_utc(arrival.first_received_at)
        days.append(Decimal((received_at - sent_at).total_seconds()) / SECONDS_PER_DAY)
        due = arrival.promised_date or (sent_at + timedelta(days=stated_lead_time_days)).date()
        on_time += received_at.date() <= due
    if not days:
        return NO_DELIVERIES
    mean = sum(days, Decimal(0)) / len(days)
    spread = None
    if len(days) > 1:
        variance = sum(((day - mean) ** 2 for day in days), Decimal(0)) / (len(days) - 1)
        spread = variance.sqrt().quantize(DAY_PLACES, ROUND_HALF_UP)
    return DeliveryRecord(
        measured_lead_time_days=mean.quantize(DAY_PLACES, ROUND_HALF_UP),
        lead_time_spread_days=spread,
        on_time_rate=(Decimal(on_time) / len(days)).quantize(RATE_PLACES, ROUND_HALF_UP),
        orders_measured=len(days),
        orders_on_time=on_time,
    )


@dataclass(frozen=True)
class FillRecord:
    """Units filled over units ordered, over the `orders` that are received or closed."""

    fill_rate: Decimal | None
    orders: int
    units_ordered: int
    units_filled: int


def fill_record(orders: Iterable[tuple[int, int]]) -> FillRecord:
    """Given (units ordered, units filled) per finished order, a line's filled units being those
    received up to its ordered quantity (an over-delivery on one line does not make up for a
    shortfall on another). An order closed short counts its shortfall: its ordered units stay in
    the denominator."""
    count = units_ordered = units_filled = 0
    for ordered, done in orders:
        count += 1
        units_ordered += ordered
        units_filled += done
    rate = None
    if units_ordered > 0:
        rate = (Decimal(units_filled) / units_ordered).quantize(RATE_PLACES, ROUND_HALF_UP)
    return FillRecord(rate, count, units_ordered, units_filled)


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


def seed_history(
    state: DailyDemand, days: list[tuple[date, int]], alpha: Decimal
) -> DailyDemand | None:
    """Start a signal from imported daily sales (a business moving onto Keel brings its
    history, so the first replenishment run has something to plan with).

    Only a signal with no closed day can be seeded (None otherwise: history is not refolded),
    and only with days before the one being counted. The days are replayed as issues, so a
    date missing between two given ones counts as a day nothing sold, and the last one stays
    open until the next issue closes it, with the empty days up to it (as for any other day).
    """
    ordered = sorted(days)
    if state.days or (state.open_day is not None and ordered[-1][0] >= state.open_day):
        return None
    seeded = NO_DEMAND
    for day, units in ordered:
        seeded = record_issue(seeded, day, units, alpha)
    if state.open_day is not None:
        seeded = record_issue(seeded, state.open_day, state.open_quantity, alpha)
    return seeded


class LeadTimeSource(StrEnum):
    MEASURED = "measured"
    STATED = "stated"


@dataclass(frozen=True)
class Replenishment:
    """A replenishment decision with every number that explains it."""

    mean: Decimal
    sigma: Decimal
    lead_time_days: Decimal
    lead_time_sigma: Decimal | None
    z: Decimal
    safety_stock: Decimal
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
    lead_time_sigma: Decimal | None = None,
    review_days: int,
    service_level: Decimal,
    position: int,
    min_order_qty: int,
    pack_size: int,
) -> Replenishment:
    """Reorder point = mean x L + safety stock, the safety stock being z times the spread of
    demand over the lead time; order-up-to = reorder point + mean x the review period. At or
    below the reorder point, order up to the level: at least the minimum order quantity, rounded
    up to whole packs. Nothing is ordered when there is nothing to fill (no demand and nothing
    owed)."""
    sigma = demand.variance.sqrt().quantize(NUMBER_PLACES, ROUND_HALF_UP)
    z = service_level_z(service_level)
    if lead_time_sigma is None:
        # No measured spread (a stated lead time, or fewer than two deliveries): the lead time is
        # taken as fixed, so only demand varies over it: sigma_d x sqrt(L).
        safety = z * sigma * lead_time_days.sqrt()
    else:
        # The lead time varies too. Demand over a lead time of mean L and spread sigma_L (demand
        # and lead time independent) has variance L x sigma_d^2 + d^2 x sigma_L^2: a supplier
        # whose deliveries swing needs stock for the late ones, not just for busy days.
        variance = lead_time_days * sigma**2 + demand.mean**2 * lead_time_sigma**2
        safety = z * variance.sqrt()
    reorder_point = (demand.mean * lead_time_days + safety).quantize(NUMBER_PLACES, ROUND_HALF_UP)
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
        lead_time_sigma=lead_time_sigma,
        z=z,
        safety_stock=safety.quantize(NUMBER_PLACES, ROUND_HALF_UP),
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        position=position,
        raw_quantity=raw,
        quantity=quantity,
    )
