"""Inventory HTTP API: thin routers that parse, call a use case, and commit."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keel_inventory import repository, reservations, service
from keel_inventory.domain import DAMAGED, QUARANTINE, SELLABLE
from keel_inventory.schemas import (
    AvailabilityPublic,
    BalancesPublic,
    InvariantsPublic,
    ItemCreate,
    ItemPublic,
    LedgerPage,
    LocationCreate,
    MovementPublic,
    ReceiptCreate,
    ReservationPublic,
    StockTotalsPage,
    StockTotalsPublic,
)
from keel_kit.app import RuntimeDep
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.query import CursorQuery

router = APIRouter(prefix="/v1", tags=["inventory"])

# The states whose units are valued stock, as finance's reconciliation counts them: sellable
# (its reserved units included: they are sellable units set aside) and the units inspection
# kept, in quarantine or damaged; not units pending inspection, on order or written off.
VALUED_STATES = (SELLABLE, QUARANTINE, DAMAGED)


@router.post("/items", status_code=status.HTTP_201_CREATED, response_model=ItemPublic)
async def create_item(
    body: ItemCreate, runtime: RuntimeDep, key: IdempotencyKey = None
) -> Response:
    async def run() -> ItemPublic:
        item = await service.register_item(session=session, outbox=runtime.outbox, cmd=body)
        return ItemPublic.model_validate(item, from_attributes=True)

    async with runtime.db.transaction() as session:
        return await idempotent(
            session, scope="items", key=key, request=body, status_code=201, run=run
        )


@router.post("/locations", status_code=status.HTTP_201_CREATED, response_model=LocationCreate)
async def create_location(
    body: LocationCreate, runtime: RuntimeDep, key: IdempotencyKey = None
) -> Response:
    async def run() -> LocationCreate:
        location = await service.register_location(session=session, outbox=runtime.outbox, cmd=body)
        return LocationCreate.model_validate(location, from_attributes=True)

    async with runtime.db.transaction() as session:
        return await idempotent(
            session, scope="locations", key=key, request=body, status_code=201, run=run
        )


@router.post("/receipts", status_code=status.HTTP_201_CREATED, response_model=MovementPublic)
async def create_receipt(
    body: ReceiptCreate, runtime: RuntimeDep, key: IdempotencyKey = None
) -> Response:
    """Receive stock. Send an `Idempotency-Key` so a retried request is never booked twice."""

    async def run() -> MovementPublic:
        movement = await service.receive_stock(session=session, outbox=runtime.outbox, cmd=body)
        return MovementPublic.model_validate(movement, from_attributes=True)

    async with runtime.db.transaction() as session:
        return await idempotent(
            session, scope="receipts", key=key, request=body, status_code=201, run=run
        )


@router.get("/availability/{sku}")
async def get_availability(sku: str, runtime: RuntimeDep) -> AvailabilityPublic:
    async with runtime.db.transaction() as session:
        return await service.availability(session=session, sku=sku)


@router.get("/balances")
async def list_balances(
    runtime: RuntimeDep,
    after: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> StockTotalsPage:
    """Every SKU's units per state over all its locations, and how many of them are valued
    stock; in SKU order, the page `after` the last page's `next_cursor`."""
    async with runtime.db.transaction() as session:
        skus = await repository.sku_page(session, after=after, limit=limit)
        totals = await repository.state_totals(session, skus)
    return StockTotalsPage(
        items=[_totals(sku, totals[sku]) for sku in skus],
        next_cursor=skus[-1] if len(skus) == limit else None,
    )


@router.get("/balances/{sku}")
async def get_balances(sku: str, runtime: RuntimeDep) -> BalancesPublic:
    """The SKU's stock per location and state, the states not for sale included, and its totals
    over all locations."""
    async with runtime.db.transaction() as session:
        shown = await service.balances(session=session, sku=sku)
        totals = (await repository.state_totals(session, [sku]))[sku]
    overall = _totals(sku, totals)
    return shown.model_copy(
        update={"totals": overall.totals, "valued_quantity": overall.valued_quantity}
    )


def _totals(sku: str, totals: dict[str, int]) -> StockTotalsPublic:
    valued = sum(totals.get(state, 0) for state in VALUED_STATES)
    return StockTotalsPublic(sku=sku, totals=totals, valued_quantity=valued)


@router.get("/reservations/{order_id}")
async def get_reservation(order_id: str, runtime: RuntimeDep) -> ReservationPublic:
    async with runtime.db.transaction() as session:
        return await reservations.view(session=session, order_id=order_id)


@router.get("/invariants")
async def get_invariants(runtime: RuntimeDep) -> InvariantsPublic:
    """Balances against the ledger, and any location with more reserved than sellable."""
    async with runtime.db.transaction() as session:
        return await service.invariants(session=session)


@router.get("/ledger")
async def get_ledger(
    runtime: RuntimeDep,
    sku: str | None = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> LedgerPage:
    async with runtime.db.transaction() as session:
        rows = await repository.movements(session, sku=sku, after=cursor, limit=limit)
    items = [MovementPublic.model_validate(r, from_attributes=True) for r in rows]
    return LedgerPage(
        items=items, next_cursor=items[-1].movement_id if len(items) == limit else None
    )
