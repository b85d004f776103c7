"""Lots: which lot the sellable units are, picked first-expiry-first-out, and traced for a recall.

A receipt (or units found) may name a lot and its expiry; the lot ledger records them beside
the stock ledger's movement. Whatever takes sellable units out (an issue, a loss, a transfer)
takes them from the location's lots, the first to expire first, before any units received
without a lot, unless it names its lot. A transfer's lots go with it and arrive, as counted,
at the other end (keel_inventory.lot_moves), in transit in between. An issue keeps the order it
shipped to, which is what a recall asks for; returned units come back in the lots their order
took, and keep them through inspection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from keel_contracts import new_event_id
from keel_contracts.times import as_utc
from keel_inventory.context import Work
from keel_inventory.domain import SELLABLE
from keel_inventory.lot_models import Lot, LotStock
from keel_inventory.repository import lots as repository
from keel_inventory.schemas import LotLocation, LotOrder, LotPublic, LotRecall, LotReceipt, LotsPage
from keel_kit.problems import DomainError, NotFound

# The lot movements that bring a lot's units in from outside, and the issues that ship them.
RECEIVED = ("receipt", "found")
ISSUED = "issue"


async def receive(
    uow: Work,
    *,
    sku: str,
    location_id: str,
    lot: str,
    expires_on: date | None,
    quantity: int,
    reference: str,
    kind: str = "receipt",
) -> None:
    """Units of a lot in at a location (422 when the lot is known to expire on another day)."""
    session = uow.session
    known = await repository.get_lot(session, sku, lot)
    if known is None:
        session.add(
            Lot(sku=sku, lot=lot, expires_on=expires_on, first_received_at=uow.service.clock())
        )
    elif expires_on is not None and known.expires_on != expires_on:
        raise DomainError(
            f"lot {lot} of {sku} expires on {known.expires_on or 'no date'}, not {expires_on}",
            field="expires_on",
        )
    await move(uow, sku, location_id, lot, quantity, kind=kind, reference=reference)


async def take(
    uow: Work,
    *,
    sku: str,
    location_id: str,
    quantity: int,
    kind: str,
    reference: str,
    order_id: str | None = None,
    lot: str | None = None,
) -> dict[str, int]:
    """Units leaving sellable stock at a location: from `lot` if named (422 if it has fewer
    there), else from the lots there, the first to expire first; what the lots do not cover
    are units without a lot. The units taken of each lot."""
    if lot is not None:
        stock = await check_on_hand(
            uow, sku=sku, location_id=location_id, lot=lot, quantity=quantity
        )
        await move(uow, sku, location_id, lot, -quantity, kind, reference, order_id, stock=stock)
        return {lot: quantity}
    taken: dict[str, int] = {}
    if await repository.lotless(uow.session, sku):
        return taken
    left = quantity
    for stock, _lot in await repository.lots_to_pick(uow.session, sku, location_id):
        if not left:
            break
        units = taken[stock.lot] = min(left, stock.quantity)
        await move(uow, sku, location_id, stock.lot, -units, kind, reference, order_id, stock=stock)
        left -= units
    return taken


async def check_on_hand(
    uow: Work, *, sku: str, location_id: str, lot: str, quantity: int
) -> LotStock:
    """The lot's stock at a location, locked, when it has `quantity` units (422 otherwise)."""
    stock = await repository.lot_stock(uow.session, sku, location_id, lot)
    there = stock.quantity if stock is not None else 0
    if stock is None or there < quantity:
        raise DomainError(f"{location_id} has {there} {sku} of lot {lot}", field="lot")
    return stock


async def recall(*, uow: Work, sku: str, lot: str) -> LotRecall:
    """What a recall of a lot needs: received, on hand, and the orders it shipped to."""
    session = uow.session
    found = await repository.get_lot(session, sku, lot)
    if found is None:
        raise NotFound(f"no lot {lot} of {sku}")
    received = await repository.lot_movements(session, sku, lot, kinds=RECEIVED)
    issued = await repository.lot_movements(session, sku, lot, kinds=(ISSUED,))
    stock = await repository.on_hand(session, sku, [lot])
    return LotRecall(
        **_public(uow, found, stock).model_dump(),
        received=[
            LotReceipt(
                location_id=m.location_id,
                quantity=m.quantity,
                reference=m.reference,
                received_at=as_utc(m.created_at),
            )
            for m in received
        ],
        orders=[
            LotOrder(
                location_id=m.location_id,
                quantity=-m.quantity,
                order_id=m.order_id,
                shipment_id=m.reference,
            )
            for m in issued
        ],
    )


async def page(*, uow: Work, sku: str) -> LotsPage:
    """Every lot of a SKU, the first to expire first, with its stock and age."""
    known = await repository.lots_of(uow.session, sku)
    stock = await repository.on_hand(uow.session, sku, [found.lot for found in known])
    return LotsPage(
        items=[_public(uow, found, [s for s in stock if s.lot == found.lot]) for found in known]
    )


def _public(uow: Work, lot: Lot, stock: Sequence[LotStock]) -> LotPublic:
    first = as_utc(lot.first_received_at)
    return LotPublic(
        sku=lot.sku,
        lot=lot.lot,
        expires_on=lot.expires_on,
        first_received_at=first,
        age_days=(uow.service.clock().date() - first.date()).days,
        on_hand=sum(s.quantity for s in stock),
        locations=[
            LotLocation(location_id=s.location_id, state=s.state, quantity=s.quantity)
            for s in stock
        ],
    )


async def move(
    uow: Work,
    sku: str,
    location_id: str,
    lot: str,
    quantity: int,
    kind: str,
    reference: str,
    order_id: str | None = None,
    *,
    state: str = SELLABLE,
    stock: LotStock | None = None,
) -> None:
    """Units of a lot into (above 0) or out of (below 0) a state at a location."""
    if stock is None:
        stock = await repository.lot_stock(uow.session, sku, location_id, lot, state)
    if stock is None:
        stock = LotStock(sku=sku, location_id=location_id, lot=lot, state=state, quantity=0)
    await repository.add_lot_movement(
        uow.session,
        stock,
        {
            "movement_id": str(new_event_id()),
            "sku": sku,
            "location_id": location_id,
            "lot": lot,
            "state": state,
            "quantity": quantity,
            "kind": kind,
            "reference": reference,
            "order_id": order_id,
            "created_at": uow.service.clock(),
        },
    )
