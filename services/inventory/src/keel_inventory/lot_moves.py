"""Lots through transfers and returns: the lots a transfer takes from its source are in transit
at its destination until counted in (or written off), and a return brings back the lots its
order took, pending inspection, then wherever each unit is graded to."""

from __future__ import annotations

from keel_inventory import lots
from keel_inventory.context import Work
from keel_inventory.domain import IN_TRANSIT, PENDING_INSPECTION, SELLABLE
from keel_inventory.repository import lots as repository


async def ship(
    uow: Work, *, transfer_id: str, sku: str, source: str, destination: str, quantity: int
) -> None:
    """A transfer leaves: its units' lots (first to expire first) go in transit."""
    taken = await lots.take(
        uow, sku=sku, location_id=source, quantity=quantity, kind="transfer_out",
        reference=transfer_id,
    )  # fmt: skip
    for lot, units in taken.items():
        await lots.move(
            uow, sku, destination, lot, units, "transfer_out", transfer_id, state=IN_TRANSIT
        )


async def arrive(uow: Work, *, transfer_id: str, sku: str, destination: str, quantity: int) -> None:
    """A transfer's units counted in: its lots in transit become sellable, the first to expire
    first; units beyond them came without a lot."""
    await _shift(uow, sku, destination, transfer_id, IN_TRANSIT, SELLABLE, quantity, "transfer_in")


async def write_off_in_transit(
    uow: Work, *, transfer_id: str, sku: str, destination: str, quantity: int
) -> None:
    """What never arrived leaves the lots still in transit."""
    await _shift(uow, sku, destination, transfer_id, IN_TRANSIT, None, quantity, "transit_loss")


async def returned(
    uow: Work, *, return_id: str, order_id: str, sku: str, location_id: str, quantity: int
) -> None:
    """Returned units come back, pending inspection, in the lots their order took (first to
    expire first); units beyond those shipped without a lot."""
    out = await repository.out_with_order(uow.session, order_id, sku)
    left = quantity
    for known in await repository.lots_of(uow.session, sku):
        units = min(left, out.get(known.lot, 0))
        if units > 0:
            await lots.move(
                uow, sku, location_id, known.lot, units, "return", return_id, order_id,
                state=PENDING_INSPECTION,
            )  # fmt: skip
            left -= units


async def graded(
    uow: Work,
    *,
    return_id: str,
    order_id: str,
    sku: str,
    location_id: str,
    quantity: int,
    state: str | None,
) -> None:
    """Inspected units leave pending inspection for `state` (out of stock when None)."""
    await _shift(
        uow, sku, location_id, return_id, PENDING_INSPECTION, state, quantity, "inspection",
        order_id,
    )  # fmt: skip


async def _shift(
    uow: Work,
    sku: str,
    location_id: str,
    reference: str,
    source: str,
    target: str | None,
    quantity: int,
    kind: str,
    order_id: str | None = None,
) -> None:
    """Up to `quantity` units of the lots that `reference` left in `source` at a location move
    to `target` (out of stock when None), the first to expire first."""
    there = await repository.moved_by(uow.session, reference, location_id=location_id, state=source)
    left = quantity
    for known in await repository.lots_of(uow.session, sku):
        units = min(left, there.get(known.lot, 0))
        if units <= 0:
            continue
        lot = known.lot
        await lots.move(uow, sku, location_id, lot, -units, kind, reference, order_id, state=source)
        if target is not None:
            await lots.move(
                uow, sku, location_id, lot, units, kind, reference, order_id, state=target
            )
        left -= units
