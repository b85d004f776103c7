"""Stock on its way out: held for a released order, then issued when its shipment leaves.

Physical reality wins: a shipment that left is issued from sellable stock even if its
reservation has meanwhile expired; only the units still held for it come off `reserved`.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import ShipmentShipped, StockIssued
from keel_contracts.values import Money
from keel_inventory import lots, repository, reservations
from keel_inventory.channel_rules import effective_rules
from keel_inventory.context import Work
from keel_inventory.domain import COMMITTED, HELD, RESERVED, SELLABLE
from keel_inventory.repository.lots import note_lotless
from keel_kit.handlers import PermanentError

# A confirmed order is going to ship (after its channel's release delay, the warehouse's work):
# its hold no longer expires with the short TTL that protects stock from orders that never
# complete validation.
SHIPMENT_WINDOW = timedelta(days=30)


async def hold_for_shipment(*, uow: Work, order_id: str) -> None:
    until = uow.service.clock() + SHIPMENT_WINDOW
    await repository.extend_hold(uow.session, order_id, until)


async def load_for_shipments(session: AsyncSession, shipments: Sequence[ShipmentShipped]) -> None:
    """Read what a batch's shipments need for all of them at once, under the stock-changes
    lock they take anyway (taken first, so what is read stays true until the batch commits):
    which SKUs have no lots (their issues then skip the lot lookup), the items, the SKUs'
    channel rules, and the orders' reservations with what they hold. Not inside a savepoint
    (the kit isolating a failing message): there each shipment reads for itself."""
    if not shipments or session.in_nested_transaction():
        return
    skus = sorted({line.sku for shipment in shipments for line in shipment.lines})
    await repository.lock_stock_changes(session)
    await note_lotless(session, skus)
    await repository.load_items(session, skus)
    await repository.rules_for(session, skus)
    await repository.load_reservations_to_ship(session, {s.order_id for s in shipments})


async def issue_shipment(*, uow: Work, event: ShipmentShipped, cause: Envelope) -> None:
    session, outbox = uow.session, uow.outbox
    await repository.lock_stock_changes(session)
    held: dict[tuple[str, str], int] = {}
    held_under = ""  # the reservation whose held units this shipment consumes
    held_for = ""  # its channel
    unheld: list[tuple[str, str, int]] = []  # (channel, sku, -units) it no longer holds
    taken: list[tuple[str, str, int]] = []  # (location, sku, units) it took off the holds
    reservation = await repository.reservation_to_ship(session, event.order_id)
    if reservation is not None and reservation.status in (HELD, COMMITTED):
        held_under, held_for = reservation.reservation_id, reservation.channel
        for location_id, sku, quantity in reservation.holds:
            held[(location_id, sku)] = held.get((location_id, sku), 0) + quantity
    now = uow.service.clock()
    movements = []
    for line in event.lines:
        item = await repository.get_item(session, line.sku)
        if item is None:
            raise PermanentError(f"shipment {event.shipment_id} carries unknown sku {line.sku}")
        issue = _movement(
            line.sku,
            event.location_id,
            SELLABLE,
            -line.quantity,
            item.unit_cost,
            event.shipment_id,
            now,
        )
        movements.append(issue)
        await lots.take(
            uow,
            sku=line.sku,
            location_id=event.location_id,
            quantity=line.quantity,
            kind=lots.ISSUED,
            reference=event.shipment_id,
            order_id=event.order_id,
        )
        # Only what is still held comes off `reserved`: what the order's earlier shipments
        # took is not, and a shipment of more than was held takes the rest from sellable only.
        unreserve = min(line.quantity, held.get((event.location_id, line.sku), 0))
        if unreserve:
            held[(event.location_id, line.sku)] -= unreserve
            taken.append((event.location_id, line.sku, unreserve))
            unheld.append((held_for, line.sku, -unreserve))
            movements.append(
                _movement(
                    line.sku,
                    event.location_id,
                    RESERVED,
                    -unreserve,
                    item.unit_cost * 0,
                    held_under,  # reserved movements name the reservation they hold stock for
                    now,
                )
            )
        outbox.add(
            session,
            StockIssued(
                order_id=event.order_id,
                shipment_id=event.shipment_id,
                location_id=event.location_id,
                sku=line.sku,
                quantity=line.quantity,
                unit_cost=Money(amount=item.unit_cost, currency=item.currency),
                movement_id=issue["movement_id"],
            ),
            key=line.sku,
            causation=cause,
        )
    if reservation is not None and held_under:
        await repository.commit_shipped(session, reservation, taken)
    await repository.add_movements(session, movements)
    await repository.move_channel_holds(session, unheld)
    roomier = await _skus_with_cap_room(session, unheld)
    if roomier:
        await reservations.serve_backorders(uow=uow, skus=roomier, cause=cause)


async def _skus_with_cap_room(
    session: AsyncSession, unheld: list[tuple[str, str, int]]
) -> list[str]:
    """The SKUs whose shipped units a capped channel held: it holds fewer now, so its waiting
    requests may fit under its cap again (its cap shrinks with the sellable units, but only by
    its share of them)."""
    skus = sorted({sku for _, sku, _ in unheld})
    rules = await repository.rules_for(session, skus) if skus else {}
    return [
        sku
        for sku in skus
        if any(
            (rule := effective_rules(rules[sku], sku).get(channel)) is not None and rule.capped
            for channel, shipped_sku, _ in unheld
            if shipped_sku == sku
        )
    ]


def _movement(
    sku: str,
    location_id: str,
    state: str,
    quantity: int,
    unit_cost: object,
    shipment_id: str,
    now: datetime,
) -> dict[str, object]:
    return {
        "movement_id": str(new_event_id()),
        "sku": sku,
        "location_id": location_id,
        "state": state,
        "quantity": quantity,
        "kind": "issue",
        "unit_cost": unit_cost,
        "reference": shipment_id,
        "created_at": now,
    }
