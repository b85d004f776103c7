"""Transfers HTTP API: request and approve (operations), ship and receive (warehouse), look up."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keel_inventory import transfers
from keel_inventory.context import InventoryDep
from keel_inventory.schemas import TransferCreate, TransferPublic, TransferReceipt, TransfersPage
from keel_inventory.transfers import TransferStatus
from keel_kit.access import PrincipalDep
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.query import CursorQuery

router = APIRouter(prefix="/v1", tags=["transfers"])


@router.post("/transfers", status_code=status.HTTP_201_CREATED, response_model=TransferPublic)
async def request_transfer(
    body: TransferCreate,
    inventory: InventoryDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Ask for units of a SKU to move from one location to another (422 naming an unknown SKU or
    location, or the same location twice); it waits for approval."""
    return await idempotent(
        inventory,
        scope="transfers",
        key=key,
        request=body,
        status_code=201,
        use_case=transfers.request,
        cmd=body,
        actor=principal,
    )


@router.post("/transfers/{transfer_id}/approve")
async def approve_transfer(
    transfer_id: str, inventory: InventoryDep, principal: PrincipalDep
) -> TransferPublic:
    """Let a requested transfer go (409 unless it is requested)."""
    async with inventory.unit_of_work() as uow:
        return await transfers.approve(uow=uow, transfer_id=transfer_id, actor=principal)


@router.post("/transfers/{transfer_id}/ship")
async def ship_transfer(
    transfer_id: str, inventory: InventoryDep, principal: PrincipalDep
) -> TransferPublic:
    """The units leave the source, in transit at the destination (409 unless approved, or
    when the source has not that many free)."""
    async with inventory.unit_of_work() as uow:
        return await transfers.ship(uow=uow, transfer_id=transfer_id, actor=principal)


@router.post("/transfers/{transfer_id}/receive")
async def receive_transfer(
    transfer_id: str,
    body: TransferReceipt,
    inventory: InventoryDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """The units counted in at the destination become sellable there (422 for more than are
    in transit; 409 unless shipped). A short count leaves the rest in transit."""
    return await idempotent(
        inventory,
        scope=f"transfers.receipt:{transfer_id}",
        key=key,
        request=body,
        status_code=200,
        use_case=transfers.receive,
        transfer_id=transfer_id,
        cmd=body,
        actor=principal,
    )


@router.get("/transfers")
async def list_transfers(
    inventory: InventoryDep,
    status: TransferStatus | None = None,
    from_location_id: Annotated[str | None, Query(max_length=64)] = None,
    to_location_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
) -> TransfersPage:
    """Transfers (in one status, from or to a location, if given), the oldest first; pass
    `next_cursor` back as `cursor` for more."""
    async with inventory.unit_of_work() as uow:
        return await transfers.page(
            uow=uow,
            status=status,
            limit=limit,
            cursor=cursor,
            from_location_id=from_location_id,
            to_location_id=to_location_id,
        )


@router.get("/transfers/{transfer_id}")
async def get_transfer(transfer_id: str, inventory: InventoryDep) -> TransferPublic:
    async with inventory.unit_of_work() as uow:
        return await transfers.view(uow=uow, transfer_id=transfer_id)
