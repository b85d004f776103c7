"""Inventory use cases. They add to the caller's transaction; the boundary commits."""

from collections import defaultdict

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import new_event_id
from keel_contracts.events import ItemRegistered, LocationRegistered, StockReceived
from keel_contracts.values import Money
from keel_inventory import repository, reservations
from keel_inventory.domain import RESERVED, SELLABLE
from keel_inventory.models import Item, Location, StockMovement
from keel_inventory.schemas import (
    AvailabilityPublic,
    InvariantsPublic,
    ItemCreate,
    LedgerMismatch,
    LocationAvailability,
    LocationCreate,
    Oversold,
    ReceiptCreate,
)
from keel_kit.outbox import Outbox
from keel_kit.problems import Conflict, DomainError, NotFound

# How many ledger/balance disagreements the invariants report lists.
MISMATCHES_SHOWN = 100


async def register_item(*, session: AsyncSession, outbox: Outbox, cmd: ItemCreate) -> Item:
    if await repository.get_item(session, cmd.sku) is not None:
        raise Conflict(f"item {cmd.sku} already exists", field="sku")
    item = Item(sku=cmd.sku, name=cmd.name, unit_cost=cmd.unit_cost, currency=cmd.currency)
    session.add(item)
    outbox.add(
        session,
        ItemRegistered(
            sku=item.sku,
            name=item.name,
            unit_cost=Money(amount=cmd.unit_cost, currency=cmd.currency),
        ),
        key=item.sku,
    )
    return item


async def register_location(
    *, session: AsyncSession, outbox: Outbox, cmd: LocationCreate
) -> Location:
    if await repository.get_location(session, cmd.location_id) is not None:
        raise Conflict(f"location {cmd.location_id} already exists", field="location_id")
    location = Location(**cmd.model_dump())
    session.add(location)
    outbox.add(session, LocationRegistered(**cmd.model_dump()), key=location.location_id)
    return location


async def receive_stock(
    *, session: AsyncSession, outbox: Outbox, cmd: ReceiptCreate
) -> StockMovement:
    """Book received units as sellable stock and announce the receipt (finance values it).

    In the same transaction the new stock is offered to the backorder queue, oldest first.
    """
    item = await repository.get_item(session, cmd.sku)
    if item is None:
        raise DomainError(f"unknown sku {cmd.sku}", field="sku")
    if await repository.get_location(session, cmd.location_id) is None:
        raise DomainError(f"unknown location {cmd.location_id}", field="location_id")
    await repository.lock_stock_changes(session)
    movement = StockMovement(
        movement_id=str(new_event_id()),
        sku=cmd.sku,
        location_id=cmd.location_id,
        state=SELLABLE,
        quantity=cmd.quantity,
        kind="receipt",
        unit_cost=cmd.unit_cost,
        reference=cmd.reference,
    )
    await repository.add_movement(session, movement)
    await repository.ensure_reserved_rows(session, [cmd.sku])  # so reservations can lock it
    outbox.add(
        session,
        StockReceived(
            movement_id=movement.movement_id,
            sku=movement.sku,
            location_id=movement.location_id,
            quantity=cmd.quantity,
            unit_cost=Money(amount=cmd.unit_cost, currency=item.currency),
            reference=cmd.reference,
        ),
        key=movement.sku,
    )
    await reservations.serve_backorders(session=session, outbox=outbox, skus=[cmd.sku], cause=None)
    return movement


async def availability(*, session: AsyncSession, sku: str) -> AvailabilityPublic:
    if await repository.get_item(session, sku) is None:
        raise NotFound(f"unknown sku {sku}")
    by_location: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for balance in await repository.balances_for_sku(session, sku):
        by_location[balance.location_id][balance.state] += balance.quantity
    locations = [
        LocationAvailability(
            location_id=location_id,
            sellable=states[SELLABLE],
            reserved=states[RESERVED],
            available=max(0, states[SELLABLE] - states[RESERVED]),
        )
        for location_id, states in sorted(by_location.items())
    ]
    return AvailabilityPublic(
        sku=sku, available_to_sell=sum(loc.available for loc in locations), locations=locations
    )


async def invariants(*, session: AsyncSession) -> InvariantsPublic:
    """Check the stock invariants over the whole ledger (a diagnostic, not a hot path)."""
    totals = await repository.ledger_and_balances(session)
    mismatches = [
        LedgerMismatch(sku=sku, location_id=loc, state=state, ledger=ledger, balance=balance)
        for (sku, loc, state), (ledger, balance) in sorted(totals.items())
        if ledger != balance
    ]
    oversold = []
    for (sku, loc, state), (_, reserved) in sorted(totals.items()):
        sellable = totals.get((sku, loc, SELLABLE), (0, 0))[1]
        if state == RESERVED and reserved > sellable:
            oversold.append(
                Oversold(sku=sku, location_id=loc, sellable=sellable, reserved=reserved)
            )
    return InvariantsPublic(
        ledger_matches_balances=not mismatches,
        oversold=oversold,
        mismatches=mismatches[:MISMATCHES_SHOWN],
    )
