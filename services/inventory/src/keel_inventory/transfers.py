"""Transfers: stock of one SKU moved between two locations, under the same controls as the rest.

Operations requests and approves a transfer; the warehouse ships and receives it. Shipping takes
the units out of the source's sellable stock (never what is reserved there) and puts them in
transit at the destination, both in one ledger transaction; receiving moves what was counted in
from in transit to sellable there, and offers it to the backorder queue. A short receipt leaves
the rest in transit, where a later receipt may still take it: nothing is lost or counted twice.
Every step is audited.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from keel_contracts import new_event_id
from keel_contracts.roles import Role
from keel_contracts.times import as_utc
from keel_inventory import adjustments, lot_moves, repository, reservations, stock_exceptions
from keel_inventory.adjustment_rules import AdjustmentStatus, ReasonCode
from keel_inventory.context import Work
from keel_inventory.domain import IN_TRANSIT, SELLABLE
from keel_inventory.models import StockAdjustment, Transfer
from keel_inventory.paging import next_cursor, position
from keel_inventory.repository.governance import oldest_first, open_exceptions_about
from keel_inventory.schemas import TransferCreate, TransferPublic, TransferReceipt, TransfersPage
from keel_inventory.stock_exceptions import ExceptionType
from keel_kit import audit
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, DomainError, NotFound


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    SHIPPED = "shipped"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    # Received short, and what never came written off.
    CLOSED_SHORT = "closed_short"


async def request(*, uow: Work, cmd: TransferCreate, actor: Principal) -> TransferPublic:
    session = uow.session
    if await repository.get_item(session, cmd.sku) is None:
        raise DomainError(f"unknown sku {cmd.sku}", field="sku")
    for field in ("from_location_id", "to_location_id"):
        location_id = getattr(cmd, field)
        if await repository.get_location(session, location_id) is None:
            raise DomainError(f"unknown location {location_id}", field=field)
    if cmd.from_location_id == cmd.to_location_id:
        raise DomainError("a transfer goes to another location", field="to_location_id")
    transfer = Transfer(
        transfer_id=str(new_event_id()),
        sku=cmd.sku,
        from_location_id=cmd.from_location_id,
        to_location_id=cmd.to_location_id,
        quantity=cmd.quantity,
        status=TransferStatus.REQUESTED,
        requested_by=actor.subject,
        created_at=uow.service.clock(),
    )
    session.add(transfer)
    await _audit(uow, transfer, actor, "transfer.requested", before=None)
    return public(transfer)


async def approve(*, uow: Work, transfer_id: str, actor: Principal) -> TransferPublic:
    transfer = await _in_status(uow, transfer_id, TransferStatus.REQUESTED, "approved")
    before = _state(transfer)
    transfer.status, transfer.approved_by = TransferStatus.APPROVED, actor.subject
    uow.session.add(transfer)
    await _audit(uow, transfer, actor, "transfer.approved", before=before)
    return public(transfer)


async def ship(*, uow: Work, transfer_id: str, actor: Principal) -> TransferPublic:
    """The units leave the source: out of its free sellable stock (409 if that is short), in
    transit at the destination."""
    session = uow.session
    await repository.lock_stock_changes(session)
    transfer = await _in_status(uow, transfer_id, TransferStatus.APPROVED, "shipped")
    source = transfer.from_location_id
    free = (await repository.lock_stock(session, [transfer.sku]))[transfer.sku].get(source, 0)
    if free < transfer.quantity:
        raise Conflict(
            f"{source} has {free} {transfer.sku} free to ship (the rest is reserved or not "
            f"there); the transfer asks {transfer.quantity}"
        )
    before = _state(transfer)
    now = uow.service.clock()
    unit_cost = await _unit_cost(uow, transfer.sku)
    out, there = "transfer_out", transfer.to_location_id
    await repository.add_movements(
        session,
        [
            _movement(transfer, source, SELLABLE, -transfer.quantity, unit_cost, out, now),
            _movement(transfer, there, IN_TRANSIT, transfer.quantity, unit_cost, out, now),
        ],
    )
    await lot_moves.ship(
        uow,
        transfer_id=transfer.transfer_id,
        sku=transfer.sku,
        source=source,
        destination=there,
        quantity=transfer.quantity,
    )
    transfer.status, transfer.shipped_at = TransferStatus.SHIPPED, now
    session.add(transfer)
    await _audit(uow, transfer, actor, "transfer.shipped", before=before)
    return public(transfer)


async def receive(
    *, uow: Work, transfer_id: str, cmd: TransferReceipt, actor: Principal
) -> TransferPublic:
    """The counted units arrive: no more than are in transit (422); a short count leaves the
    rest in transit for a later receipt."""
    session = uow.session
    await repository.lock_stock_changes(session)
    transfer = await _get(uow, transfer_id, lock=True)
    if transfer.status not in (TransferStatus.SHIPPED, TransferStatus.PARTIALLY_RECEIVED):
        raise Conflict(f"transfer {transfer_id} is {transfer.status}: only a shipped one arrives")
    in_transit = repository.in_transit(transfer)
    if cmd.quantity > in_transit:
        raise DomainError(
            f"{cmd.quantity} counted in, but {in_transit} {transfer.sku} are in transit",
            field="quantity",
        )
    before = _state(transfer)
    now = uow.service.clock()
    unit_cost = await _unit_cost(uow, transfer.sku)
    here = transfer.to_location_id
    await repository.add_movements(
        session,
        [
            _movement(transfer, here, IN_TRANSIT, -cmd.quantity, unit_cost, "transfer_in", now),
            _movement(transfer, here, SELLABLE, cmd.quantity, unit_cost, "transfer_in", now),
        ],
    )
    await lot_moves.arrive(
        uow,
        transfer_id=transfer.transfer_id,
        sku=transfer.sku,
        destination=here,
        quantity=cmd.quantity,
    )
    transfer.received += cmd.quantity
    transfer.received_at = now
    short = repository.in_transit(transfer)
    transfer.status = TransferStatus.PARTIALLY_RECEIVED if short else TransferStatus.RECEIVED
    session.add(transfer)
    await repository.ensure_reserved_rows(session, [transfer.sku])  # reservations lock them
    await reservations.serve_backorders(uow=uow, skus=[transfer.sku], cause=None)
    await _audit(uow, transfer, actor, "transfer.received", before=before)
    if short and not await open_exceptions_about(session, transfer.transfer_id):
        await stock_exceptions.open_exception(
            uow,
            ExceptionType.TRANSFER_DISCREPANCY,
            reference=transfer.transfer_id,
            reason=f"transfer {transfer.transfer_id} of {transfer.quantity} {transfer.sku} from "
            f"{transfer.from_location_id}: {cmd.quantity} received at {here}, {short} missing",
        )
    elif not short:
        await stock_exceptions.close_about(
            uow,
            transfer.transfer_id,
            resolution=stock_exceptions.CLOSED,
            by=actor.subject,
            note="the missing units arrived",
        )
    return public(transfer)


async def settle_shortfall(
    *, uow: Work, transfer_id: str, write_off: bool, actor: Principal, note: str
) -> None:
    """Decide a short transfer: write off what never came (it leaves in transit as a loss,
    which finance posts to shrinkage, and the transfer closes short), or keep waiting for it."""
    transfer = await _get(uow, transfer_id, lock=True)
    missing = repository.in_transit(transfer)
    if write_off and missing:
        await repository.lock_stock_changes(uow.session)
        before = _state(transfer)
        item = await adjustments.known_item(uow, transfer.sku)
        now = uow.service.clock()
        loss = StockAdjustment(
            adjustment_id=str(new_event_id()),
            sku=transfer.sku,
            location_id=transfer.to_location_id,
            quantity=-missing,
            reason_code=ReasonCode.TRANSIT_LOSS,
            transfer_id=transfer.transfer_id,
            expected=missing,
            state=IN_TRANSIT,
            unit_cost=item.unit_cost,
            currency=item.currency,
            status=AdjustmentStatus.PENDING_APPROVAL,
            requested_by=actor.subject,
            created_at=now,
            decided_by=actor.subject,
            decided_at=now,
        )
        await adjustments.apply(uow, loss)
        await lot_moves.write_off_in_transit(
            uow,
            transfer_id=transfer.transfer_id,
            sku=transfer.sku,
            destination=transfer.to_location_id,
            quantity=missing,
        )
        uow.session.add(loss)
        transfer.written_off += missing
        transfer.status = TransferStatus.CLOSED_SHORT
        uow.session.add(transfer)
        await _audit(uow, transfer, actor, "transfer.closed_short", before=before, reason=note)
    await stock_exceptions.close_about(
        uow,
        transfer_id,
        resolution="release" if write_off else "reject",
        by=actor.subject,
        note=note,
    )


async def view(*, uow: Work, transfer_id: str) -> TransferPublic:
    return public(await _get(uow, transfer_id))


async def page(
    *,
    uow: Work,
    status: TransferStatus | None,
    limit: int,
    cursor: str | None,
    from_location_id: str | None = None,
    to_location_id: str | None = None,
) -> TransfersPage:
    """Transfers (in `status`, from and to the locations, if given) the oldest first;
    `next_cursor` continues."""
    where = [] if status is None else [Transfer.status == status]
    if from_location_id is not None:
        where.append(Transfer.from_location_id == from_location_id)
    if to_location_id is not None:
        where.append(Transfer.to_location_id == to_location_id)
    found = await oldest_first(
        uow.session,
        Transfer,
        at=Transfer.created_at,
        key=Transfer.transfer_id,
        where=where,
        after=position(cursor),
        limit=limit + 1,
    )
    return TransfersPage(
        items=[public(t) for t in found[:limit]],
        next_cursor=next_cursor(found, limit, lambda t: (t.created_at, t.transfer_id)),
    )


def public(transfer: Transfer) -> TransferPublic:
    shipped = transfer.shipped_at is not None
    return TransferPublic(
        transfer_id=transfer.transfer_id,
        status=transfer.status,
        sku=transfer.sku,
        from_location_id=transfer.from_location_id,
        to_location_id=transfer.to_location_id,
        quantity=transfer.quantity,
        received=transfer.received,
        in_transit=repository.in_transit(transfer) if shipped else 0,
        written_off=transfer.written_off,
        requested_by=transfer.requested_by,
        approved_by=transfer.approved_by,
        created_at=as_utc(transfer.created_at),
        shipped_at=as_utc(transfer.shipped_at) if transfer.shipped_at else None,
        received_at=as_utc(transfer.received_at) if transfer.received_at else None,
    )


async def _get(uow: Work, transfer_id: str, *, lock: bool = False) -> Transfer:
    transfer = await repository.get_transfer(uow.session, transfer_id, lock=lock)
    if transfer is None:
        raise NotFound(f"no transfer {transfer_id}")
    return transfer


async def _in_status(uow: Work, transfer_id: str, wanted: TransferStatus, step: str) -> Transfer:
    transfer = await _get(uow, transfer_id, lock=True)
    if transfer.status != wanted:
        raise Conflict(
            f"transfer {transfer_id} is {transfer.status}: only a {wanted} one can be {step}"
        )
    return transfer


async def _unit_cost(uow: Work, sku: str) -> Decimal:
    item = await repository.get_item(uow.session, sku)
    return item.unit_cost if item is not None else Decimal(0)


def _movement(
    transfer: Transfer,
    location_id: str,
    state: str,
    quantity: int,
    unit_cost: Decimal,
    kind: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "movement_id": str(new_event_id()),
        "sku": transfer.sku,
        "location_id": location_id,
        "state": state,
        "quantity": quantity,
        "kind": kind,
        "unit_cost": unit_cost,
        "reference": transfer.transfer_id,
        "created_at": now,
    }


def _state(transfer: Transfer) -> dict[str, Any]:
    return {
        "status": transfer.status,
        "received": transfer.received,
        "written_off": transfer.written_off,
    }


async def _audit(
    uow: Work,
    transfer: Transfer,
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
        object_type="transfer",
        object_id=transfer.transfer_id,
        owner_role=Role.OPERATIONS,
        before=before,
        after={
            **_state(transfer),
            "sku": transfer.sku,
            "from": transfer.from_location_id,
            "to": transfer.to_location_id,
            "quantity": transfer.quantity,
        },
        reason=reason,
    )
