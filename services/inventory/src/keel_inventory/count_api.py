"""Cycle counts, stock adjustments and the inventory exception queue over HTTP."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keel_contracts.exception_queue import ExceptionDecision
from keel_contracts.roles import Role
from keel_inventory import adjustments, counts, exception_decisions, stock_exceptions
from keel_inventory.adjustment_rules import AdjustmentStatus
from keel_inventory.context import InventoryDep
from keel_inventory.count_schemas import (
    AdjustmentCreate,
    AdjustmentPublic,
    AdjustmentsPage,
    CountCreate,
    CountPublic,
    CountResults,
    CountsPage,
    StockExceptionPublic,
    StockExceptionsPage,
)
from keel_inventory.counts import CountStatus
from keel_inventory.stock_exceptions import ExceptionType
from keel_kit.access import PrincipalDep
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.query import CursorQuery

router = APIRouter(prefix="/v1", tags=["counts"])

PageSize = Annotated[int, Query(ge=1, le=200)]


@router.post("/counts", status_code=status.HTTP_201_CREATED, response_model=CountPublic)
async def create_count(
    body: CountCreate, inventory: InventoryDep, principal: PrincipalDep, key: IdempotencyKey = None
) -> Response:
    """A blind count of some SKUs at a location: it lists what to count, never how many the
    ledger expects (422 naming an unknown location or SKU, or a SKU twice)."""
    return await idempotent(
        inventory,
        scope="counts",
        key=key,
        request=body,
        status_code=201,
        use_case=counts.create,
        cmd=body,
        actor=principal,
    )


@router.post("/counts/{count_id}/results", response_model=CountPublic)
async def post_count_results(
    count_id: str,
    body: CountResults,
    inventory: InventoryDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """What was counted, every SKU of the count once (422 otherwise; 409 once counted). Each
    variance against the ledger becomes an adjustment: `applied` within tolerance, else
    `pending_approval`, stock unchanged, with a count_discrepancy in the exception queue."""
    return await idempotent(
        inventory,
        scope=f"counts.results:{count_id}",
        key=key,
        request=body,
        status_code=200,
        use_case=counts.post_results,
        count_id=count_id,
        cmd=body,
        actor=principal,
    )


@router.get("/counts")
async def list_counts(
    inventory: InventoryDep,
    status: CountStatus | None = None,
    location_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: PageSize = 50,
    cursor: CursorQuery = None,
) -> CountsPage:
    """Counts (open or counted, at one location, if given), the oldest first; pass
    `next_cursor` back as `cursor` for more. An open count shows no expected quantities."""
    async with inventory.unit_of_work() as uow:
        return await counts.page(
            uow=uow, status=status, location_id=location_id, limit=limit, cursor=cursor
        )


@router.get("/counts/{count_id}")
async def get_count(count_id: str, inventory: InventoryDep) -> CountPublic:
    async with inventory.unit_of_work() as uow:
        return await counts.view(uow=uow, count_id=count_id)


@router.post("/adjustments", status_code=status.HTTP_201_CREATED, response_model=AdjustmentPublic)
async def adjust_stock(
    body: AdjustmentCreate,
    inventory: InventoryDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Units found, damaged or lost (signed `quantity`): applied at once within tolerance, else
    pending approval (422: unknown SKU or location, 0 units, more taken out than are there)."""
    return await idempotent(
        inventory,
        scope="adjustments",
        key=key,
        request=body,
        status_code=201,
        use_case=adjustments.adjust,
        cmd=body,
        actor=principal,
    )


@router.post("/adjustments/{adjustment_id}/approve")
async def approve_adjustment(
    adjustment_id: str, inventory: InventoryDep, principal: PrincipalDep
) -> AdjustmentPublic:
    """Apply a pending adjustment (409 unless pending, or while the units it takes out are
    reserved for orders; 403 for the person who asked for it or counted it)."""
    async with inventory.unit_of_work() as uow:
        return await adjustments.decide(
            uow=uow, adjustment_id=adjustment_id, approve=True, actor=principal
        )


@router.post("/adjustments/{adjustment_id}/reject")
async def reject_adjustment(
    adjustment_id: str, inventory: InventoryDep, principal: PrincipalDep
) -> AdjustmentPublic:
    """Leave stock as it is (409 unless pending; 403 for the person who asked for it)."""
    async with inventory.unit_of_work() as uow:
        return await adjustments.decide(
            uow=uow, adjustment_id=adjustment_id, approve=False, actor=principal
        )


@router.get("/adjustments")
async def list_adjustments(
    inventory: InventoryDep,
    status: AdjustmentStatus | None = None,
    limit: PageSize = 50,
    cursor: CursorQuery = None,
) -> AdjustmentsPage:
    """Adjustments (in one status, if given), the oldest first; pass `next_cursor` back as
    `cursor` for more."""
    async with inventory.unit_of_work() as uow:
        return await adjustments.page(uow=uow, status=status, limit=limit, cursor=cursor)


@router.get("/adjustments/{adjustment_id}")
async def get_adjustment(adjustment_id: str, inventory: InventoryDep) -> AdjustmentPublic:
    async with inventory.unit_of_work() as uow:
        return await adjustments.view(uow=uow, adjustment_id=adjustment_id)


@router.get("/exceptions")
async def exception_queue(
    inventory: InventoryDep,
    exception_type: Annotated[ExceptionType | None, Query(alias="type")] = None,
    owner_role: Role | None = None,
    status: Annotated[str, Query(pattern="^(open|resolved)$")] = "open",
    limit: PageSize = 50,
    cursor: CursorQuery = None,
) -> StockExceptionsPage:
    """Inventory's exceptions (count_discrepancy, adjustment_approval, transfer_discrepancy) in
    the shape every queue shares, the first due first; `next_cursor` continues."""
    async with inventory.unit_of_work() as uow:
        return await stock_exceptions.page(
            uow=uow,
            resolved=status == "resolved",
            kind=exception_type,
            owner_role=owner_role,
            limit=limit,
            cursor=cursor,
        )


@router.post("/exceptions/{exception_id}/claim")
async def claim_exception(
    exception_id: str, inventory: InventoryDep, principal: PrincipalDep
) -> StockExceptionPublic:
    """Take an open exception to work on it (409 while someone else has it)."""
    async with inventory.unit_of_work() as uow:
        return await stock_exceptions.claim(uow=uow, exception_id=exception_id, actor=principal)


@router.post("/exceptions/{exception_id}/unclaim")
async def unclaim_exception(
    exception_id: str, inventory: InventoryDep, principal: PrincipalDep
) -> StockExceptionPublic:
    """Let it go back to the queue: its claimer may, and operations may take anyone's back."""
    async with inventory.unit_of_work() as uow:
        return await stock_exceptions.unclaim(uow=uow, exception_id=exception_id, actor=principal)


@router.post("/exceptions/{exception_id}/resolve")
async def resolve_exception(
    exception_id: str, body: ExceptionDecision, inventory: InventoryDep, principal: PrincipalDep
) -> StockExceptionPublic:
    """`release` approves the adjustment, or writes off a transfer's missing units; `reject`
    rejects the adjustment, or keeps the units in transit for a later receipt (409 once
    resolved, or claimed by someone else)."""
    async with inventory.unit_of_work() as uow:
        return await exception_decisions.resolve(
            uow=uow, exception_id=exception_id, cmd=body, actor=principal
        )
