"""Order rules and the order lifecycle (DESIGN §2), free of I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from keel_contracts.exception_queue import Priority
from keel_contracts.roles import Role


class Status(StrEnum):
    RECEIVED = "received"
    VALIDATING = "validating"
    CONFIRMED = "confirmed"
    BACKORDERED = "backordered"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    RELEASED = "released"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# Where an order may go from each status; anything else is refused.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.VALIDATING, Status.CANCELLED}),
    Status.VALIDATING: frozenset(
        {Status.CONFIRMED, Status.BACKORDERED, Status.ON_HOLD, Status.REJECTED, Status.CANCELLED}
    ),
    Status.BACKORDERED: frozenset(
        {Status.CONFIRMED, Status.ON_HOLD, Status.REJECTED, Status.CANCELLED}
    ),
    Status.ON_HOLD: frozenset(
        {Status.VALIDATING, Status.CONFIRMED, Status.BACKORDERED, Status.REJECTED, Status.CANCELLED}
    ),
    # Back to validating when its reservation expired before it was released (a race with the
    # confirmation reaching inventory): the stock is asked for again.
    Status.CONFIRMED: frozenset({Status.RELEASED, Status.VALIDATING, Status.CANCELLED}),
    Status.RELEASED: frozenset({Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.CANCELLED}),
    Status.PARTIALLY_SHIPPED: frozenset({Status.SHIPPED}),
    Status.SHIPPED: frozenset({Status.DELIVERED}),
    Status.DELIVERED: frozenset({Status.CLOSED}),
    Status.REJECTED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.CLOSED: frozenset(),
}
CANCELLABLE = frozenset(s for s, targets in TRANSITIONS.items() if Status.CANCELLED in targets)
# An order in these still holds stock or may still take it: the units a customer holds on a
# channel (its cap against hoarding) are counted over them.
TAKING_STOCK = frozenset(
    {
        Status.RECEIVED,
        Status.VALIDATING,
        Status.CONFIRMED,
        Status.BACKORDERED,
        Status.ON_HOLD,
        Status.RELEASED,
        Status.PARTIALLY_SHIPPED,
    }
)
FINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


class IllegalTransition(ValueError):
    pass


def check_transition(current: Status, target: Status) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"an order cannot go from {current} to {target}")


class StockState(StrEnum):
    """Where the order's reservation stands, as inventory answered."""

    PENDING = "pending"  # asked, no answer yet
    RESERVED = "reserved"
    WAITING = "waiting"  # short, backordered until stock comes
    FAILED = "failed"  # short on a channel that does not backorder: nothing is held
    # Held past its time while the order waited (on a person, say) and given back, so an order
    # on hold hoards nothing; asked for again once the order may go on.
    EXPIRED = "expired"


class PaymentState(StrEnum):
    """Where the order's payment authorization stands, as finance answered."""

    PENDING = "pending"  # asked (or asked again after a review), no answer yet
    AUTHORIZED = "authorized"
    DECLINED = "declined"  # nothing was authorized, so nothing is voided
    HELD = "held"  # the provider's review: a person decides (a payment_hold)


class ShipmentStatus(StrEnum):
    """The order's view of one of its shipments, learnt from fulfillment's events."""

    CREATED = "created"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# A shipment in one of these will not move again.
SHIPMENT_ENDED = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED})


class BackorderPolicy(StrEnum):
    """What a channel wants when stock is short: wait for it, or reject the order."""

    BACKORDER = "backorder"
    REJECT = "reject"


class HoldType(StrEnum):
    """The exception taxonomy (DESIGN §2) for the holds this service opens."""

    PAYMENT_HOLD = "payment_hold"
    FRAUD_REVIEW = "fraud_review"
    LIMIT_REVIEW = "limit_review"
    VALIDATION_TIMEOUT = "validation_timeout"
    SUPPLIER_DELAY = "supplier_delay"


# Holds that ask a person to act without stopping the order: the saga goes on around them. A
# supplier_delay asks customer service to warn the customer; the order stays backordered and
# confirms when the stock comes, as it would have anyway.
NOTICES = frozenset({HoldType.SUPPLIER_DELAY})


# Every hold is owned by one of the staff roles (keel_contracts.roles), who resolve it.
HOLD_OWNER = {
    HoldType.PAYMENT_HOLD: Role.FINANCE,
    HoldType.FRAUD_REVIEW: Role.CUSTOMER_SERVICE,
    HoldType.LIMIT_REVIEW: Role.OPERATIONS,
    HoldType.VALIDATION_TIMEOUT: Role.OPERATIONS,
    HoldType.SUPPLIER_DELAY: Role.CUSTOMER_SERVICE,
}
# Operations runs the exception queue and may take over any hold (one whose owner is away, one
# overdue); admin may do anything. Anyone else resolves only the holds their role owns:
# keel_contracts.exception_queue.may_work_on and may_take_claim.


class HoldState(StrEnum):
    """Whether a hold still waits for a decision, or has had one (`resolved_at` is set)."""

    OPEN = "open"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    """How a hold ended: a person released or rejected it, or it was closed without a decision
    of its own (the stock came, or the order ended; `resolved_by` names who cancelled the order,
    or SYSTEM when the saga ended it)."""

    RELEASE = "release"
    REJECT = "reject"
    CLOSED = "closed"


SYSTEM = "system"  # who resolved a hold the system closed

# How long the owning role has to resolve a hold before it is overdue.
HOLD_SLA = {
    HoldType.PAYMENT_HOLD: timedelta(hours=24),
    HoldType.FRAUD_REVIEW: timedelta(hours=4),
    HoldType.LIMIT_REVIEW: timedelta(hours=8),
    HoldType.VALIDATION_TIMEOUT: timedelta(hours=1),
    HoldType.SUPPLIER_DELAY: timedelta(hours=24),
}

# Which holds a person should look at first once the overdue ones are done: money and a customer
# wait on a payment or fraud review and on an order whose answers never came; a notice waits on
# nothing.
HOLD_PRIORITY = {
    HoldType.PAYMENT_HOLD: Priority.HIGH,
    HoldType.FRAUD_REVIEW: Priority.HIGH,
    HoldType.LIMIT_REVIEW: Priority.NORMAL,
    HoldType.VALIDATION_TIMEOUT: Priority.HIGH,
    HoldType.SUPPLIER_DELAY: Priority.LOW,
}

REASON_MAX = 500  # the hold's and the order history's reason columns


def cut(reason: str) -> str:
    """A reason that fits its column: whatever does not fit ends in an ellipsis."""
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


@dataclass(frozen=True)
class RuleSet:
    """The order rules as data. A change is a new version; every decision records the version."""

    version: str
    max_line_quantity: int
    max_order_value: Decimal
    high_value: Decimal
    new_customer_points: int
    high_value_points: int
    foreign_address_points: int
    review_threshold: int


RULES = RuleSet(
    version="2026-11.1",
    max_line_quantity=50,
    max_order_value=Decimal("10000"),
    high_value=Decimal("1000"),
    new_customer_points=30,
    high_value_points=40,
    foreign_address_points=40,
    review_threshold=70,
)


@dataclass(frozen=True)
class OrderFacts:
    """What the rules look at."""

    line_quantities: tuple[int, ...]
    order_value: Decimal
    new_customer: bool
    address_country: str
    market_country: str


@dataclass(frozen=True)
class Hold:
    type: HoldType
    reason: str
    reference: str | None = None  # what the hold is about, when not the order alone


SKUS_NAMED = 5  # a reason names this many SKUs, then counts the rest


def supplier_delay(
    *,
    purchase_order_id: str,
    supplier_id: str,
    skus: Iterable[str],
    previous_expected_at: datetime,
    expected_at: datetime,
) -> Hold:
    """The notice a late purchase order puts on an order waiting for some of its SKUs."""
    named = sorted(set(skus))
    listed = ", ".join(named[:SKUS_NAMED])
    if len(named) > SKUS_NAMED:
        listed += f" and {len(named) - SKUS_NAMED} more"
    previous, expected = _day(previous_expected_at), _day(expected_at)
    if previous == expected:  # moved within the day: the time tells the difference
        previous, expected = _minute(previous_expected_at), _minute(expected_at)
    reason = (
        f"supplier {supplier_id} delayed purchase order {purchase_order_id} "
        f"from {previous} to {expected}; it brings {listed}, which this order waits for"
    )
    return Hold(HoldType.SUPPLIER_DELAY, cut(reason), reference=purchase_order_id)


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Decision:
    rule_set_version: str
    fraud_score: int
    holds: tuple[Hold, ...]


def decide(facts: OrderFacts, rules: RuleSet = RULES) -> Decision:
    """Apply the caps and the fraud score; every hold carries a reason a person can act on."""
    holds: list[Hold] = []
    biggest = max(facts.line_quantities)
    if biggest > rules.max_line_quantity:
        holds.append(
            Hold(
                HoldType.LIMIT_REVIEW,
                f"a line asks for {biggest} units; the cap is {rules.max_line_quantity}",
            )
        )
    if facts.order_value > rules.max_order_value:
        holds.append(
            Hold(
                HoldType.LIMIT_REVIEW,
                f"order value {facts.order_value} exceeds {rules.max_order_value}",
            )
        )
    signals: list[str] = []
    score = 0
    if facts.new_customer:
        score += rules.new_customer_points
        signals.append("new customer")
    if facts.order_value >= rules.high_value:
        score += rules.high_value_points
        signals.append(f"high value ({facts.order_value})")
    if facts.address_country != facts.market_country:
        score += rules.foreign_address_points
        signals.append(f"ships to {facts.address_country}, channel sells in {facts.market_country}")
    if score >= rules.review_threshold:
        holds.append(Hold(HoldType.FRAUD_REVIEW, f"fraud score {score}: {', '.join(signals)}"))
    return Decision(rules.version, score, tuple(holds))
