"""Inventory HTTP API: thin routers that parse, open a unit of work and call one use case."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keel_contracts.limits import MAX_QUANTITY
from keel_inventory import invariants, promises, reservation_view, service
from keel_inventory.context import InventoryDep
from keel_inventory.schemas import (
    AvailabilityPublic,
    BalancesPublic,
    InvariantsPublic,
    ItemCreate,
    ItemPublic,
    LedgerMismatchesPage,
    LedgerPage,
    LocationCreate,
    MovementPublic,
    OversoldPage,
    PromisePublic,
    ReceiptCreate,
    ReservationPublic,
    StockTotalsPage,
)
from keel_kit.access import PrincipalDep
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.query import CursorQuery

router = APIRouter(prefix="/v1", tags=["inventory"])

ChannelQuery = Annotated[
    str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]


@router.post("/items", status_code=status.HTTP_201_CREATED, response_model=ItemPublic)
async def create_item(
    body: ItemCreate, inventory: InventoryDep, principal: PrincipalDep, key: IdempotencyKey = None
) -> Response:
    return await idempotent(
        inventory,
        scope="items",
        key=key,
        request=body,
        status_code=201,
        use_case=service.register_item,
        cmd=body,
        actor=principal,
    )


@router.post("/locations", status_code=status.HTTP_201_CREATED, response_model=LocationCreate)
async def create_location(
    body: LocationCreate,
    inventory: InventoryDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    return await idempotent(
        inventory,
        scope="locations",
        key=key,
        request=body,
        status_code=201,
        use_case=service.register_location,
        cmd=body,
        actor=principal,
    )


@router.post("/receipts", status_code=status.HTTP_201_CREATED, response_model=MovementPublic)
async def create_receipt(
    body: ReceiptCreate,
    inventory: InventoryDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Receive stock. Send an `Idempotency-Key` so a retried request is never booked twice."""
    return await idempotent(
        inventory,
        scope="receipts",
        key=key,
        request=body,
        status_code=201,
        use_case=service.receive_stock,
        cmd=body,
        actor=principal,
    )


# Unset fields left out: `channel` appears only when asked for, so the answer keeps its shape.
@router.get("/availability/{sku}", response_model_exclude_unset=True)
async def get_availability(
    sku: str,
    inventory: InventoryDep,
    channel: ChannelQuery = None,
) -> AvailabilityPublic:
    """The SKU's stock for sale per location. With `channel`, `available_to_sell` is what that
    channel may sell under its allocation rule, explained in `channel`."""
    async with inventory.unit_of_work() as uow:
        return await service.availability(uow=uow, sku=sku, channel=channel)


@router.get("/availability/{sku}/promise")
async def get_promise(
    sku: str,
    inventory: InventoryDep,
    quantity: Annotated[int, Query(ge=1, le=MAX_QUANTITY)],
    channel: ChannelQuery = None,
) -> PromisePublic:
    """The earliest date `quantity` units can be promised (for `channel`, within its allocation
    rule), how sure it is, and the stock or purchase-order lines it counts on; `date` is null
    when stock and inbound goods together fall short."""
    async with inventory.unit_of_work() as uow:
        return await promises.promise_for(uow=uow, sku=sku, quantity=quantity, channel=channel)


@router.get("/balances")
async def list_balances(
    inventory: InventoryDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> StockTotalsPage:
    """Every SKU's units per state over all its locations, and how many of them are valued
    stock; in SKU order, the page after the last page's `next_cursor`."""
    async with inventory.unit_of_work() as uow:
        return await service.stock_totals(uow=uow, cursor=cursor, limit=limit)


@router.get("/balances/{sku}")
async def get_balances(sku: str, inventory: InventoryDep) -> BalancesPublic:
    """The SKU's stock per location and state, the states not for sale included, and its totals
    over all locations."""
    async with inventory.unit_of_work() as uow:
        return await service.balances(uow=uow, sku=sku)


@router.get("/reservations/{order_id}")
async def get_reservation(order_id: str, inventory: InventoryDep) -> ReservationPublic:
    async with inventory.unit_of_work() as uow:
        return await reservation_view.view(uow=uow, order_id=order_id)


@router.get("/invariants")
async def get_invariants(inventory: InventoryDep) -> InvariantsPublic:
    """Balances against the ledger, and locations with more reserved than sellable: how many
    of each (all of them); `/v1/invariants/mismatches` and `/v1/invariants/oversold` list them."""
    async with inventory.unit_of_work() as uow:
        return await invariants.summary(uow=uow)


@router.get("/invariants/mismatches")
async def list_ledger_mismatches(
    inventory: InventoryDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> LedgerMismatchesPage:
    """Balances whose movements sum to another figure, by SKU, location and state; pass
    `next_cursor` back as `cursor` for the next page (it is null on the last page)."""
    async with inventory.unit_of_work() as uow:
        return await invariants.mismatches(uow=uow, cursor=cursor, limit=limit)


@router.get("/invariants/oversold")
async def list_oversold(
    inventory: InventoryDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OversoldPage:
    """Locations holding more reserved than sellable, by SKU and location; pass `next_cursor`
    back as `cursor` for the next page (it is null on the last page)."""
    async with inventory.unit_of_work() as uow:
        return await invariants.oversold(uow=uow, cursor=cursor, limit=limit)


@router.get("/ledger")
async def get_ledger(
    inventory: InventoryDep,
    sku: str | None = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> LedgerPage:
    async with inventory.unit_of_work() as uow:
        return await service.ledger(uow=uow, sku=sku, cursor=cursor, limit=limit)
