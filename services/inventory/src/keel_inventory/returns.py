"""Returns seen from the stock: returned units wait in pending_inspection, then go where their
inspection sends them.

`return.received` books each SKU into `pending_inspection` at the location (not sellable).
`return.inspected` moves each line out of it: restock to `sellable` (offered to the backorder
queue like a receipt), refurbish to `quarantine` at the same location (a refurbishment location
can come later), damaged to `damaged`, write_off out of stock. Every movement is valued at the
item's current cost and announced as `stock.returned`, never as `stock.received` (finance would
count the value twice). Each step is applied once per (return, SKU), however often and under
whatever event id it is delivered.
"""

from collections import defaultdict
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import Envelope, new_event_id
from keel_contracts.events import InspectedLine, ReturnInspected, ReturnReceived, StockReturned
from keel_contracts.values import Money
from keel_inventory import domain, lot_moves, repository, reservations
from keel_inventory.context import Work
from keel_inventory.domain import DISPOSITION_STATES, PENDING_INSPECTION, SELLABLE, WRITTEN_OFF
from keel_inventory.models import RETURN_ID_LENGTH, Item, ReturnStockStep, StockMovement
from keel_kit.handlers import PermanentError
from keel_kit.outbox import Outbox

# The steps of a return, as kept per (return, SKU).
RECEIVED = "received"
INSPECTED = "inspected"


async def receive(*, uow: Work, event: ReturnReceived, cause: Envelope) -> None:
    """Hold the returned units in pending_inspection at the location, once per SKU."""
    session, outbox = uow.session, uow.outbox
    what = f"return {event.return_id}"
    quantities = domain.merge_lines((line.sku, line.quantity) for line in event.lines)
    items = await _check(session, event.return_id, event.location_id, quantities)
    done = await repository.return_steps(session, event.return_id)
    todo = {sku: n for sku, n in quantities.items() if (sku, RECEIVED) not in done}
    if not todo:
        return  # a redelivery
    await repository.lock_stock_changes(session)
    steps = []
    for sku, quantity in todo.items():
        movement = _movement(
            items[sku], event.location_id, PENDING_INSPECTION, quantity, "return", what
        )
        await repository.add_movement(session, movement)
        await lot_moves.returned(
            uow,
            return_id=event.return_id,
            order_id=event.order_id,
            sku=sku,
            location_id=event.location_id,
            quantity=quantity,
        )
        _announce(outbox, session, event, items[sku], movement, quantity, None, cause)
        steps.append(
            ReturnStockStep(
                return_id=event.return_id,
                sku=sku,
                step=RECEIVED,
                location_id=event.location_id,
                quantity=quantity,
            )
        )
    repository.add_return_steps(session, steps)


async def inspect(*, uow: Work, event: ReturnInspected, cause: Envelope) -> None:
    """Move each inspected line out of pending_inspection as its disposition says.

    Every SKU is checked before anything moves: its units must have been received for this
    return at this location, and no more may leave pending_inspection than the return brought
    and than is there. One inspection per (return, SKU): a later one is taken for a redelivery.
    """
    session, outbox = uow.session, uow.outbox
    what = f"return {event.return_id}"
    by_sku: dict[str, list[InspectedLine]] = defaultdict(list)
    for line in event.lines:
        by_sku[line.sku].append(line)
    wanted = {sku: sum(line.quantity for line in lines) for sku, lines in by_sku.items()}
    items = await _check(session, event.return_id, event.location_id, wanted)
    done = await repository.return_steps(session, event.return_id)
    todo = [sku for sku in by_sku if (sku, INSPECTED) not in done]
    if not todo:
        return  # a redelivery
    await repository.lock_stock_changes(session)
    for sku in todo:
        received = done.get((sku, RECEIVED))
        if received is None:
            raise PermanentError(f"{what}: {sku} inspected but never received")
        if received.location_id != event.location_id:
            raise PermanentError(
                f"{what}: {sku} was received at {received.location_id}, not at {event.location_id}"
            )
        pending = await repository.balance(
            session, sku=sku, location_id=event.location_id, state=PENDING_INSPECTION
        )
        if wanted[sku] > min(received.quantity, pending):
            raise PermanentError(
                f"{what}: {wanted[sku]} {sku} inspected, but {received.quantity} received "
                f"and {pending} pending inspection at {event.location_id}"
            )
    restocked = set()
    steps = []
    for sku in todo:
        item = items[sku]
        for line in by_sku[sku]:
            state = DISPOSITION_STATES[line.disposition]
            reason = f"{what}: {line.disposition}, grade {line.grade}"
            kind = "inspection" if state is not None else "write_off"
            moved = _movement(
                item, event.location_id, PENDING_INSPECTION, -line.quantity, kind, reason
            )
            await repository.add_movement(session, moved)
            if state is not None:
                moved = _movement(item, event.location_id, state, line.quantity, kind, reason)
                await repository.add_movement(session, moved)
            await lot_moves.graded(
                uow,
                return_id=event.return_id,
                order_id=event.order_id,
                sku=sku,
                location_id=event.location_id,
                quantity=line.quantity,
                state=state,
            )
            if state == SELLABLE:
                restocked.add(sku)
            _announce(outbox, session, event, item, moved, line.quantity, line, cause)
        steps.append(
            ReturnStockStep(
                return_id=event.return_id,
                sku=sku,
                step=INSPECTED,
                location_id=event.location_id,
                quantity=wanted[sku],
            )
        )
    repository.add_return_steps(session, steps)
    if restocked:
        skus = sorted(restocked)
        await repository.ensure_reserved_rows(session, skus)  # so reservations can lock them
        await reservations.serve_backorders(uow=uow, skus=skus, cause=cause)


async def _check(
    session: AsyncSession, return_id: str, location_id: str, skus: dict[str, int]
) -> dict[str, Item]:
    # Refused here, not by the database when the batch commits, so the message fails alone.
    if len(return_id) > RETURN_ID_LENGTH:
        raise PermanentError(f"return id longer than {RETURN_ID_LENGTH}")
    what = f"return {return_id}"
    if await repository.get_location(session, location_id) is None:
        raise PermanentError(f"{what}: unknown location {location_id}")
    items = {}
    for sku in skus:
        item = await repository.get_item(session, sku)
        if item is None:
            raise PermanentError(f"{what}: unknown sku {sku}")
        items[sku] = item
    return items


def _movement(
    item: Item, location_id: str, state: str, quantity: int, kind: str, reference: str
) -> StockMovement:
    return StockMovement(
        movement_id=str(new_event_id()),
        sku=item.sku,
        location_id=location_id,
        state=state,
        quantity=quantity,
        kind=kind,
        unit_cost=Decimal(item.unit_cost),
        reference=reference,
    )


def _announce(
    outbox: Outbox,
    session: AsyncSession,
    event: ReturnReceived | ReturnInspected,
    item: Item,
    movement: StockMovement,
    quantity: int,
    line: InspectedLine | None,
    cause: Envelope,
) -> None:
    state = movement.state if movement.quantity > 0 else WRITTEN_OFF
    outbox.add(
        session,
        StockReturned(
            return_id=event.return_id,
            order_id=event.order_id,
            location_id=event.location_id,
            sku=item.sku,
            quantity=quantity,
            state=state,
            disposition=line.disposition if line is not None else None,
            unit_cost=Money(amount=item.unit_cost, currency=item.currency),
            movement_id=movement.movement_id,
        ),
        key=item.sku,
        causation=cause,
    )
