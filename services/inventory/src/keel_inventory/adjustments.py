"""Stock adjustments: units found or gone, from a count's variance or a person's finding.

An adjustment within tolerance (keel_inventory.adjustment_rules.Tolerance) is applied at once;
a larger one waits, stock unchanged, for operations to approve or reject it, with an exception
in the queue. Nobody decides their own: the person who asked for an adjustment (or counted the
variance) may not approve or reject it. Applying one is a ledger movement in the state it names,
announced as `stock.adjusted` (finance posts it against inventory shrinkage). Units reserved for
orders are never adjusted away: such an adjustment waits until they ship or are released.
Every step is audited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from keel_contracts import money, new_event_id
from keel_contracts.events import StockAdjusted
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_inventory import lots, repository, reservations, stock_exceptions
from keel_inventory.adjustment_rules import AdjustmentStatus, ReasonCode, Tolerance
from keel_inventory.context import Work
from keel_inventory.count_schemas import AdjustmentCreate, AdjustmentPublic, AdjustmentsPage
from keel_inventory.domain import SELLABLE
from keel_inventory.models import Item, StockAdjustment
from keel_inventory.paging import next_cursor, position
from keel_inventory.repository.governance import locked, oldest_first
from keel_inventory.stock_exceptions import ExceptionType
from keel_kit import audit
from keel_kit.access import ForbiddenActor
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, DomainError, NotFound


async def adjust(*, uow: Work, cmd: AdjustmentCreate, actor: Principal) -> AdjustmentPublic:
    """A person's adjustment of sellable stock (422: an unknown SKU or location, no units, or
    more units taken out than are there)."""
    if cmd.quantity == 0:
        raise DomainError("an adjustment moves at least one unit", field="quantity")
    item = await known_item(uow, cmd.sku)
    if await repository.get_location(uow.session, cmd.location_id) is None:
        raise DomainError(f"unknown location {cmd.location_id}", field="location_id")
    await repository.lock_stock_changes(uow.session)
    sellable, _reserved = await levels(uow, cmd.sku, cmd.location_id)
    if sellable + cmd.quantity < 0:
        raise DomainError(
            f"{cmd.location_id} has {sellable} {cmd.sku}: {-cmd.quantity} cannot be taken out",
            field="quantity",
        )
    if cmd.lot is not None and cmd.quantity < 0:
        await lots.check_on_hand(
            uow, sku=cmd.sku, location_id=cmd.location_id, lot=cmd.lot, quantity=-cmd.quantity
        )
    adjustment = await propose(
        uow,
        item=item,
        location_id=cmd.location_id,
        quantity=cmd.quantity,
        reason=ReasonCode(cmd.reason_code),
        expected=sellable,
        actor=actor,
        lot=cmd.lot,
    )
    return public(adjustment)


async def propose(
    uow: Work,
    *,
    item: Item,
    location_id: str,
    quantity: int,
    reason: ReasonCode,
    expected: int,
    actor: Principal,
    count_id: str | None = None,
    lot: str | None = None,
) -> StockAdjustment:
    """Record an adjustment of sellable stock, with the stock changes locked: applied when within
    tolerance and clear of reserved units, else left pending with an exception opened."""
    now = uow.service.clock()
    adjustment = StockAdjustment(
        adjustment_id=str(new_event_id()),
        sku=item.sku,
        location_id=location_id,
        quantity=quantity,
        reason_code=reason,
        count_id=count_id,
        lot=lot,
        expected=expected,
        state=SELLABLE,
        unit_cost=item.unit_cost,
        currency=item.currency,
        status=AdjustmentStatus.PENDING_APPROVAL,
        requested_by=actor.subject,
        created_at=now,
    )
    blocked = await reserved_in_the_way(uow, adjustment)
    if tolerance(uow).allows(quantity, expected=expected, unit_cost=item.unit_cost) and not blocked:
        await apply(uow, adjustment)
    else:
        kind = ExceptionType.COUNT_DISCREPANCY if count_id else ExceptionType.ADJUSTMENT_APPROVAL
        await stock_exceptions.open_exception(
            uow, kind, reference=adjustment.adjustment_id, reason=_why(adjustment, blocked)
        )
    uow.session.add(adjustment)
    await _audit(uow, adjustment, actor, "adjustment.requested", before=None)
    return adjustment


async def decide(
    *, uow: Work, adjustment_id: str, approve: bool, actor: Principal, note: str | None = None
) -> AdjustmentPublic:
    """Approve (apply) or reject a pending adjustment: 404 unknown, 409 no longer pending or
    (approving) reserved units in the way, 403 for the person who asked for it."""
    adjustment = await locked(uow.session, StockAdjustment, adjustment_id)
    if adjustment is None:
        raise NotFound(f"no adjustment {adjustment_id}")
    if adjustment.status != AdjustmentStatus.PENDING_APPROVAL:
        raise Conflict(f"adjustment {adjustment_id} is {adjustment.status}, not pending approval")
    if adjustment.requested_by == actor.subject:
        raise ForbiddenActor(
            f"{actor.subject} asked for adjustment {adjustment_id} (or counted it): another "
            "person decides it"
        )
    before = _state(adjustment)
    if approve:
        await repository.lock_stock_changes(uow.session)
        sellable, _reserved = await levels(uow, adjustment.sku, adjustment.location_id)
        if sellable + adjustment.quantity < 0:
            raise Conflict(
                f"{sellable} {adjustment.sku} are left at {adjustment.location_id}: taking "
                f"{-adjustment.quantity} out would leave fewer than none; reject it and count again"
            )
        blocked = await reserved_in_the_way(uow, adjustment)
        if blocked:
            raise Conflict(
                f"{blocked} {adjustment.sku} at {adjustment.location_id} are reserved for "
                "orders: ship or release them before taking the units out"
            )
        await apply(uow, adjustment)
    else:
        adjustment.status = AdjustmentStatus.REJECTED
    adjustment.decided_by, adjustment.decided_at = actor.subject, uow.service.clock()
    uow.session.add(adjustment)
    verb = "approved" if approve else "rejected"
    await stock_exceptions.close_about(
        uow,
        adjustment_id,
        resolution="release" if approve else "reject",
        by=actor.subject,
        note=note or f"adjustment {verb}",
    )
    await _audit(uow, adjustment, actor, f"adjustment.{verb}", before=before, reason=note)
    return public(adjustment)


async def apply(uow: Work, adjustment: StockAdjustment) -> None:
    """Move the units in the ledger, announce them, and offer found units to the backorders."""
    movement_id = str(new_event_id())
    await repository.add_movements(
        uow.session,
        [
            {
                "movement_id": movement_id,
                "sku": adjustment.sku,
                "location_id": adjustment.location_id,
                "state": adjustment.state,
                "quantity": adjustment.quantity,
                "kind": "adjustment",
                "unit_cost": adjustment.unit_cost,
                "reference": adjustment.transfer_id or adjustment.adjustment_id,
                "created_at": uow.service.clock(),
            }
        ],
    )
    if adjustment.state == SELLABLE:
        await _move_lots(uow, adjustment)
    adjustment.status, adjustment.movement_id = AdjustmentStatus.APPLIED, movement_id
    uow.outbox.add(
        uow.session,
        StockAdjusted(
            adjustment_id=adjustment.adjustment_id,
            movement_id=movement_id,
            location_id=adjustment.location_id,
            sku=adjustment.sku,
            quantity=adjustment.quantity,
            reason_code=adjustment.reason_code,
            unit_cost=money.shown_money(adjustment.unit_cost, adjustment.currency),
        ),
        key=adjustment.sku,
    )
    if adjustment.state == SELLABLE and adjustment.quantity > 0:
        await repository.ensure_reserved_rows(uow.session, [adjustment.sku])
        await reservations.serve_backorders(uow=uow, skus=[adjustment.sku], cause=None)


async def _move_lots(uow: Work, adjustment: StockAdjustment) -> None:
    """Found units of a lot come in as that lot; lost ones go from theirs (or the first to
    expire, like an issue, when no lot is named)."""
    a = adjustment
    if a.quantity < 0:
        await lots.take(
            uow,
            sku=a.sku,
            location_id=a.location_id,
            quantity=-a.quantity,
            kind="adjustment",
            reference=a.adjustment_id,
            lot=a.lot,
        )
    elif a.lot is not None:
        await lots.receive(
            uow,
            sku=a.sku,
            location_id=a.location_id,
            lot=a.lot,
            expires_on=None,
            quantity=a.quantity,
            reference=a.adjustment_id,
            kind="found",
        )


async def reserved_in_the_way(uow: Work, adjustment: StockAdjustment) -> int:
    """How many reserved units a removal of sellable units would take (0 if none)."""
    if adjustment.quantity >= 0 or adjustment.state != SELLABLE:
        return 0
    sellable, reserved = await levels(uow, adjustment.sku, adjustment.location_id)
    return max(0, reserved - (sellable + adjustment.quantity))


async def levels(uow: Work, sku: str, location_id: str) -> tuple[int, int]:
    """(sellable, reserved) of a SKU at a location, locked."""
    found = await repository.lock_stock_levels(uow.session, [sku])
    sellable, reserved = found[sku].get(location_id, (0, 0))
    return sellable, reserved


async def known_item(uow: Work, sku: str, *, field: str = "sku") -> Item:
    item = await repository.get_item(uow.session, sku)
    if item is None:
        raise DomainError(f"unknown sku {sku}", field=field)
    return item


def tolerance(uow: Work) -> Tolerance:
    settings = uow.service.settings
    return Tolerance(
        percent=settings.adjustment_tolerance_percent, value=settings.adjustment_value_threshold
    )


async def view(*, uow: Work, adjustment_id: str) -> AdjustmentPublic:
    adjustment = await uow.session.get(StockAdjustment, adjustment_id)
    if adjustment is None:
        raise NotFound(f"no adjustment {adjustment_id}")
    return public(adjustment)


async def page(
    *, uow: Work, status: AdjustmentStatus | None, limit: int, cursor: str | None
) -> AdjustmentsPage:
    """Adjustments (in `status`, if given), the oldest first; `next_cursor` continues."""
    where = [] if status is None else [StockAdjustment.status == status]
    found = await oldest_first(
        uow.session,
        StockAdjustment,
        at=StockAdjustment.created_at,
        key=StockAdjustment.adjustment_id,
        where=where,
        after=position(cursor),
        limit=limit + 1,
    )
    return AdjustmentsPage(
        items=[public(a) for a in found[:limit]],
        next_cursor=next_cursor(found, limit, lambda a: (a.created_at, a.adjustment_id)),
    )


def public(adjustment: StockAdjustment) -> AdjustmentPublic:
    return AdjustmentPublic(
        adjustment_id=adjustment.adjustment_id,
        status=adjustment.status,
        sku=adjustment.sku,
        location_id=adjustment.location_id,
        state=adjustment.state,
        quantity=adjustment.quantity,
        reason_code=adjustment.reason_code,
        count_id=adjustment.count_id,
        lot=adjustment.lot,
        expected=adjustment.expected,
        value=_value(adjustment),
        currency=adjustment.currency,
        requested_by=adjustment.requested_by,
        created_at=as_utc(adjustment.created_at),
        decided_by=adjustment.decided_by,
        decided_at=as_utc(adjustment.decided_at) if adjustment.decided_at else None,
        movement_id=adjustment.movement_id,
    )


def _value(adjustment: StockAdjustment) -> Decimal:
    return money.shown(adjustment.quantity * adjustment.unit_cost, adjustment.currency)


def _why(adjustment: StockAdjustment, blocked: int) -> str:
    a = adjustment
    found = f"{a.sku} at {a.location_id}: {a.quantity:+d} ({_value(a)} {a.currency})"
    if a.reason_code == ReasonCode.COUNT_VARIANCE:
        found = f"{found}, counted {a.expected + a.quantity} where the ledger holds {a.expected}"
    else:
        found = f"{found}, {a.reason_code} reported by {a.requested_by}"
    if blocked:
        return f"{found}; {blocked} of the units are reserved for orders"
    return f"{found}; beyond tolerance, it waits for approval"


def _state(adjustment: StockAdjustment) -> dict[str, Any]:
    return {"status": adjustment.status, "movement_id": adjustment.movement_id}


async def _audit(
    uow: Work,
    adjustment: StockAdjustment,
    actor: Principal,
    action: str,
    *,
    before: Any,
    reason: str | None = None,
) -> None:
    await audit.record(
        uow,
        actor=actor,
        action=action,
        object_type="adjustment",
        object_id=adjustment.adjustment_id,
        owner_role=Role.OPERATIONS,
        before=before,
        after={
            **_state(adjustment),
            "sku": adjustment.sku,
            "location_id": adjustment.location_id,
            "quantity": adjustment.quantity,
            "reason_code": adjustment.reason_code,
        },
        reason=reason,
    )
