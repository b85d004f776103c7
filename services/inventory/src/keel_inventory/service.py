"""Inventory use cases. They add to the caller's transaction; the boundary commits."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from keel_contracts import Envelope, money, new_event_id
from keel_contracts.events import ItemRegistered, LocationRegistered, StockReceived
from keel_contracts.roles import Role
from keel_contracts.values import Money
from keel_inventory import channel_allocation, domain, lots, repository, reservations
from keel_inventory.context import Work
from keel_inventory.domain import IN_TRANSIT, RESERVED, SELLABLE
from keel_inventory.models import Item, Location, StockMovement
from keel_inventory.schemas import (
    AvailabilityPublic,
    BalancePublic,
    BalancesPublic,
    ItemCreate,
    ItemPublic,
    LedgerPage,
    LocationAvailability,
    LocationCreate,
    LocationRollup,
    MovementPublic,
    ReceiptCreate,
    StockTotalsPage,
    StockTotalsPublic,
)
from keel_kit import audit
from keel_kit.identity import Principal
from keel_kit.problems import Conflict, DomainError, NotFound


async def register_item(*, uow: Work, cmd: ItemCreate, actor: Principal) -> ItemPublic:
    """Register an item for `actor`, audited: its unit cost values every receipt of it."""
    session = uow.session
    if await repository.get_item(session, cmd.sku) is not None:
        raise Conflict(f"item {cmd.sku} already exists", field="sku")
    item = Item(sku=cmd.sku, name=cmd.name, unit_cost=cmd.unit_cost, currency=cmd.currency)
    session.add(item)
    uow.outbox.add(
        session,
        ItemRegistered(
            sku=item.sku,
            name=item.name,
            unit_cost=Money(amount=cmd.unit_cost, currency=cmd.currency),
        ),
        key=item.sku,
    )
    await audit.record(
        uow,
        actor=actor,
        action="item.registered",
        object_type="item",
        object_id=item.sku,
        owner_role=Role.OPERATIONS,
        after=cmd.model_dump(mode="json"),
    )
    return ItemPublic(
        sku=item.sku,
        name=item.name,
        unit_cost=money.shown(item.unit_cost, item.currency),
        currency=item.currency,
        created_at=item.created_at,
    )


async def register_location(*, uow: Work, cmd: LocationCreate, actor: Principal) -> LocationCreate:
    """Register a location for `actor`, audited: stock can be booked there from now on."""
    session = uow.session
    if await repository.get_location(session, cmd.location_id) is not None:
        raise Conflict(f"location {cmd.location_id} already exists", field="location_id")
    # A parent must exist first, so the tree can have no cycle (locations are never moved).
    if cmd.parent_id is not None and await repository.get_location(session, cmd.parent_id) is None:
        raise DomainError(f"unknown parent location {cmd.parent_id}", field="parent_id")
    location = Location(**cmd.model_dump())
    session.add(location)
    uow.outbox.add(session, LocationRegistered(**cmd.model_dump()), key=location.location_id)
    await audit.record(
        uow,
        actor=actor,
        action="location.registered",
        object_type="location",
        object_id=location.location_id,
        owner_role=Role.OPERATIONS,
        after=cmd.model_dump(mode="json"),
    )
    return LocationCreate.model_validate(location, from_attributes=True)


async def receive_stock(*, uow: Work, cmd: ReceiptCreate, actor: Principal) -> MovementPublic:
    """Book received units as sellable stock for `actor`, audited, and announce the receipt
    (finance values it).

    In the same transaction the new stock is offered to the backorder queue, oldest first.
    Receipts booked against a purchase order arrive as messages, with nobody to name: they are
    not audited here.
    """
    (movement,) = await book_receipts(uow=uow, receipts=[cmd])
    await audit.record(
        uow,
        actor=actor,
        action="stock.received",
        object_type="stock",
        # The stock the receipt adds to, as a person asks about it ("who booked MUG in at
        # WH-A?"); the movement id, which nobody has before the receipt answers, is in `after`.
        object_id=f"{movement.sku}@{movement.location_id}",
        owner_role=Role.WAREHOUSE,
        after={
            "movement_id": movement.movement_id,
            "quantity": movement.quantity,
            "unit_cost": str(cmd.unit_cost),
            "reference": movement.reference,
        },
    )
    return MovementPublic.model_validate(movement, from_attributes=True)


async def book_receipts(
    *,
    uow: Work,
    receipts: Sequence[ReceiptCreate],
    purchase_order_id: str | None = None,
    cause: Envelope | None = None,
) -> list[StockMovement]:
    """Book several receipt lines as sellable stock, one `stock.received` each, then offer the
    new stock to the backorder queue once for all of them, oldest request first (an older
    request that wants several of the SKUs is not overtaken by a younger one wanting one).

    Every line is checked before anything is booked. `purchase_order_id` marks goods that
    arrived against a purchase order (finance books them against goods received not invoiced).
    """
    session, outbox = uow.session, uow.outbox
    items: dict[str, Item] = {}
    for index, cmd in enumerate(receipts):
        item = await repository.get_item(session, cmd.sku)
        if item is None:
            raise DomainError(f"unknown sku {cmd.sku}", field=_field(receipts, index, "sku"))
        if await repository.get_location(session, cmd.location_id) is None:
            raise DomainError(
                f"unknown location {cmd.location_id}",
                field=_field(receipts, index, "location_id"),
            )
        items[cmd.sku] = item
        if cmd.expires_on is not None and cmd.lot is None:
            raise DomainError(
                "an expiry date belongs to a lot: name the lot",
                field=_field(receipts, index, "expires_on"),
            )
    await repository.lock_stock_changes(session)
    movements = []
    for cmd in receipts:
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
        if cmd.lot is not None:
            await lots.receive(
                uow,
                sku=cmd.sku,
                location_id=cmd.location_id,
                lot=cmd.lot,
                expires_on=cmd.expires_on,
                quantity=cmd.quantity,
                reference=movement.movement_id,
            )
        outbox.add(
            session,
            StockReceived(
                movement_id=movement.movement_id,
                sku=movement.sku,
                location_id=movement.location_id,
                quantity=cmd.quantity,
                unit_cost=Money(amount=cmd.unit_cost, currency=items[cmd.sku].currency),
                reference=cmd.reference,
                purchase_order_id=purchase_order_id,
            ),
            key=movement.sku,
            causation=cause,
        )
        movements.append(movement)
    skus = sorted(items)
    await repository.ensure_reserved_rows(session, skus)  # so reservations can lock them
    await reservations.serve_backorders(uow=uow, skus=skus, cause=cause)
    return movements


def _field(receipts: Sequence[ReceiptCreate], index: int, name: str) -> str:
    return name if len(receipts) == 1 else f"lines.{index}.{name}"


async def availability(*, uow: Work, sku: str, channel: str | None = None) -> AvailabilityPublic:
    """The SKU's stock for sale per location; with `channel`, `available_to_sell` is what that
    channel may sell under its allocation rule."""
    session = uow.session
    if await repository.get_item(session, sku) is None:
        raise NotFound(f"unknown sku {sku}")
    by_location: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for balance in await repository.balances_for_sku(session, sku):
        # Units pending inspection, in quarantine or damaged are stock, but not for sale.
        if balance.state in (SELLABLE, RESERVED, IN_TRANSIT):
            by_location[balance.location_id][balance.state] += balance.quantity
    on_order: dict[str, int] = defaultdict(int)
    expected: dict[str, date] = {}
    for line in await repository.open_lines_for_sku(session, sku):
        coming = domain.on_order(line.ordered, line.received)
        if coming:
            on_order[line.location_id] += coming
            due = expected.get(line.location_id)
            expected[line.location_id] = min(due, line.expected_date) if due else line.expected_date
            # A location with only stock on order is shown too.
            by_location.setdefault(line.location_id, defaultdict(int))
    locations = [
        LocationAvailability(
            location_id=location_id,
            sellable=states[SELLABLE],
            reserved=states[RESERVED],
            available=max(0, states[SELLABLE] - states[RESERVED]),
            on_order=on_order[location_id],
            next_expected_date=expected.get(location_id),
            in_transit=states[IN_TRANSIT],
        )
        for location_id, states in sorted(by_location.items())
    ]
    free = sum(loc.available for loc in locations)
    rollup = _rollup(locations, await repository.location_parents(session))
    if channel is None:
        return AvailabilityPublic(sku=sku, available_to_sell=free, locations=locations, **rollup)
    for_channel = await channel_allocation.availability(
        uow=uow,
        channel_id=channel,
        sku=sku,
        sellable=sum(loc.sellable for loc in locations),
        free=free,
    )
    return AvailabilityPublic(
        sku=sku,
        available_to_sell=for_channel.available_to_sell,
        locations=locations,
        channel=for_channel,
        **rollup,
    )


def _rollup(
    locations: Sequence[LocationAvailability], parents: dict[str, str | None]
) -> dict[str, list[LocationRollup]]:
    """Each ancestor of a location with stock, its tree summed; no key at all without one, so
    a flat set of locations answers as it always has."""
    totals: dict[str, LocationRollup] = {}
    for loc in locations:
        ancestor, seen = parents.get(loc.location_id), set()
        while ancestor is not None and ancestor not in seen:  # `seen`: a cycle cannot loop
            seen.add(ancestor)
            node = totals.setdefault(ancestor, LocationRollup(location_id=ancestor, **ZERO))
            for field in ZERO:
                setattr(node, field, getattr(node, field) + getattr(loc, field))
            ancestor = parents.get(ancestor)
    return {"rollup": sorted(totals.values(), key=lambda r: r.location_id)} if totals else {}


ZERO = {"sellable": 0, "reserved": 0, "available": 0, "on_order": 0, "in_transit": 0}


async def balances(*, uow: Work, sku: str) -> BalancesPublic:
    """The SKU's stock per location and state, the states not for sale included, and its
    totals over all locations."""
    session = uow.session
    if await repository.get_item(session, sku) is None:
        raise NotFound(f"unknown sku {sku}")
    rows = await repository.balances_for_sku(session, sku)
    overall = _stock_totals(sku, (await repository.state_totals(session, [sku]))[sku])
    return BalancesPublic(
        sku=sku,
        balances=[
            BalancePublic(location_id=row.location_id, state=row.state, quantity=row.quantity)
            for row in rows
        ],
        totals=overall.totals,
        valued_quantity=overall.valued_quantity,
    )


async def stock_totals(*, uow: Work, cursor: str | None, limit: int) -> StockTotalsPage:
    """Every SKU's units per state over all its locations, and how many of them are valued
    stock; in SKU order, a page at a time. The cursor is the last SKU shown."""
    skus = await repository.sku_page(uow.session, after=cursor, limit=limit)
    totals = await repository.state_totals(uow.session, skus)
    return StockTotalsPage(
        items=[_stock_totals(sku, totals[sku]) for sku in skus],
        next_cursor=skus[-1] if len(skus) == limit else None,
    )


def _stock_totals(sku: str, totals: dict[str, int]) -> StockTotalsPublic:
    return StockTotalsPublic(sku=sku, totals=totals, valued_quantity=domain.valued(totals))


async def ledger(*, uow: Work, sku: str | None, cursor: str | None, limit: int) -> LedgerPage:
    """The ledger's movements (of `sku`, if given) in the order they were made, a page at a
    time. The cursor is the last movement id shown."""
    rows = await repository.movements(uow.session, sku=sku, after=cursor, limit=limit)
    items = [MovementPublic.model_validate(row, from_attributes=True) for row in rows]
    return LedgerPage(
        items=items, next_cursor=items[-1].movement_id if len(items) == limit else None
    )
