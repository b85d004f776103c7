"""Procurement HTTP API: thin routers that parse, call a use case, and commit."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keel_kit.access import PrincipalDep, acting_person
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.problems import DomainError
from keel_kit.query import CursorQuery
from keel_procurement import (
    domain,
    purchase_order_drafts,
    purchase_order_views,
    purchase_orders,
    replenishment,
    replenishment_runs,
    service,
)
from keel_procurement.context import ProcurementDep
from keel_procurement.domain import Action, Status
from keel_procurement.schemas import (
    ApprovalCreate,
    CancelRequest,
    ConfirmationCreate,
    DemandHistoryCreate,
    DemandHistoryPublic,
    DemandPublic,
    PolicyPublic,
    PolicyPut,
    PurchaseOrderCreate,
    PurchaseOrderPublic,
    PurchaseOrdersPage,
    ReceiptCreate,
    ReceiptPublic,
    ReplenishmentRunCreate,
    ReplenishmentRunPublic,
    ReplenishmentRunsPage,
    SuggestionsPage,
    SupplierCreate,
    SupplierPublic,
    SuppliersPage,
)

router = APIRouter(prefix="/v1", tags=["procurement"])


@router.post("/suppliers", status_code=status.HTTP_201_CREATED, response_model=SupplierPublic)
async def create_supplier(
    body: SupplierCreate,
    procurement: ProcurementDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    return await idempotent(
        procurement,
        scope="suppliers",
        key=key,
        request=body,
        status_code=201,
        use_case=service.register_supplier,
        cmd=body,
        actor=principal,
    )


@router.get("/suppliers")
async def list_suppliers(
    procurement: ProcurementDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: CursorQuery = None,
) -> SuppliersPage:
    """Suppliers by id, each with what its purchase orders measured of it (lead time, on-time
    rate, fill rate); pass `next_cursor` back as `cursor` for more."""
    async with procurement.unit_of_work() as uow:
        return await service.suppliers_page(uow=uow, limit=limit, cursor=cursor)


@router.get("/suppliers/{supplier_id}")
async def get_supplier(supplier_id: str, procurement: ProcurementDep) -> SupplierPublic:
    async with procurement.unit_of_work() as uow:
        return await service.view_supplier(uow=uow, supplier_id=supplier_id)


@router.put("/policies/{sku}/{location_id}")
async def put_policy(
    sku: str,
    location_id: str,
    body: PolicyPut,
    procurement: ProcurementDep,
    principal: PrincipalDep,
) -> PolicyPublic:
    """Create or replace the replenishment policy of a SKU at a location."""
    async with procurement.unit_of_work() as uow:
        return await service.put_policy(
            uow=uow, sku=sku, location_id=location_id, cmd=body, actor=principal
        )


@router.get("/policies/{sku}/{location_id}")
async def get_policy(sku: str, location_id: str, procurement: ProcurementDep) -> PolicyPublic:
    async with procurement.unit_of_work() as uow:
        return await service.view_policy(uow=uow, sku=sku, location_id=location_id)


@router.post(
    "/purchase-orders", status_code=status.HTTP_201_CREATED, response_model=PurchaseOrderPublic
)
async def create_purchase_order(
    body: PurchaseOrderCreate,
    procurement: ProcurementDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Draft a purchase order as the caller; it needs another person's approval before it can
    be sent."""
    return await idempotent(
        procurement,
        scope="purchase-orders",
        key=key,
        request=body,
        status_code=201,
        use_case=purchase_order_drafts.draft,
        cmd=body,
        created_by=principal.subject,
    )


@router.get("/purchase-orders")
async def list_purchase_orders(
    procurement: ProcurementDep,
    status: Status | None = None,
    receivable: bool = False,
    location_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: CursorQuery = None,
) -> PurchaseOrdersPage:
    """Purchase orders in one status, the oldest first: by default the drafts waiting for their
    approvals. Each shows its approvals so far and how many it needs. `receivable=true` lists,
    instead of one status, those goods may still be received against; `location_id` keeps the
    ones bound for that location."""
    if receivable and status is not None:
        raise DomainError("ask for one status or for the receivable ones, not both", field="status")
    statuses = domain.ALLOWED_FROM[Action.RECEIVE] if receivable else {status or Status.DRAFT}
    async with procurement.unit_of_work() as uow:
        return await purchase_order_views.purchase_orders_page(
            uow.session, statuses=statuses, location_id=location_id, limit=limit, cursor=cursor
        )


@router.get("/purchase-orders/{po_id}")
async def get_purchase_order(po_id: str, procurement: ProcurementDep) -> PurchaseOrderPublic:
    async with procurement.unit_of_work() as uow:
        return await purchase_orders.view(uow=uow, po_id=po_id)


@router.post("/purchase-orders/{po_id}/approve")
async def approve(
    po_id: str,
    procurement: ProcurementDep,
    principal: PrincipalDep,
    body: ApprovalCreate | None = None,
) -> PurchaseOrderPublic:
    """Approve as the caller (no body needed; a body naming anyone else is a 403), never as the
    person who drafted the order (a 403). Above the approval threshold two different people
    must approve: the first approval is recorded and the order stays a draft until the second."""
    # Refuses a body naming anyone but the caller; the caller approves.
    acting_person(principal, None if body is None else body.approver, field="approver")
    async with procurement.unit_of_work() as uow:
        return await purchase_orders.approve(uow=uow, po_id=po_id, actor=principal)


@router.post("/purchase-orders/{po_id}/send")
async def send(
    po_id: str, procurement: ProcurementDep, principal: PrincipalDep
) -> PurchaseOrderPublic:
    async with procurement.unit_of_work() as uow:
        return await purchase_orders.send(uow=uow, po_id=po_id, actor=principal)


@router.post("/purchase-orders/{po_id}/confirm")
async def confirm(
    po_id: str, body: ConfirmationCreate, procurement: ProcurementDep, principal: PrincipalDep
) -> PurchaseOrderPublic:
    """The supplier confirmed the order with the date it expects to deliver."""
    async with procurement.unit_of_work() as uow:
        return await purchase_orders.confirm(uow=uow, po_id=po_id, cmd=body, actor=principal)


@router.post(
    "/purchase-orders/{po_id}/receipts",
    status_code=status.HTTP_201_CREATED,
    response_model=ReceiptPublic,
)
async def receive(
    po_id: str,
    body: ReceiptCreate,
    procurement: ProcurementDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Book goods that arrived. Send an `Idempotency-Key` so a retry is never booked twice (nor
    put on the audit trail twice: a replay does not run the booking again)."""
    return await idempotent(
        procurement,
        scope=f"receipts:{po_id}",
        key=key,
        request=body,
        status_code=201,
        use_case=purchase_orders.receive,
        po_id=po_id,
        cmd=body,
        actor=principal,
    )


@router.post("/purchase-orders/{po_id}/cancel")
async def cancel(
    po_id: str,
    procurement: ProcurementDep,
    principal: PrincipalDep,
    body: CancelRequest | None = None,
) -> PurchaseOrderPublic:
    async with procurement.unit_of_work() as uow:
        return await purchase_orders.cancel(
            uow=uow, po_id=po_id, cmd=body or CancelRequest(), actor=principal
        )


@router.post("/purchase-orders/{po_id}/close")
async def close(
    po_id: str, procurement: ProcurementDep, principal: PrincipalDep
) -> PurchaseOrderPublic:
    """Expect no more goods: a partly received order is closed short."""
    async with procurement.unit_of_work() as uow:
        return await purchase_orders.close(uow=uow, po_id=po_id, actor=principal)


@router.get("/demand/{sku}/{location_id}")
async def get_demand(sku: str, location_id: str, procurement: ProcurementDep) -> DemandPublic:
    """The demand signal of a SKU at a location as of today, from the stock issued there."""
    async with procurement.unit_of_work() as uow:
        return await replenishment.demand(uow=uow, sku=sku, location_id=location_id)


@router.post(
    "/demand-history", status_code=status.HTTP_201_CREATED, response_model=DemandHistoryPublic
)
async def import_demand_history(
    body: DemandHistoryCreate, procurement: ProcurementDep, key: IdempotencyKey = None
) -> Response:
    """Seed demand signals from past daily sales (up to 500 SKU-location series of up to a
    year each), so replenishment can plan from the first day on Keel."""
    return await idempotent(
        procurement,
        scope="demand-history",
        key=key,
        request=body,
        status_code=201,
        use_case=replenishment.import_history,
        history=body,
    )


@router.post(
    "/replenishment-runs",
    status_code=status.HTTP_201_CREATED,
    response_model=ReplenishmentRunPublic,
)
async def create_replenishment_run(
    procurement: ProcurementDep,
    key: IdempotencyKey = None,
    body: ReplenishmentRunCreate | None = None,
) -> Response:
    """Review every policy now: suggest what is at or below its reorder point and draft one
    purchase order per supplier and location (the same run the schedule makes). The answer is
    the run and what it made; its suggestions are read a page at a time from
    `GET /v1/replenishment-runs/{run_id}/suggestions`."""
    return await idempotent(
        procurement,
        scope="replenishment-runs",
        key=key,
        request=body or ReplenishmentRunCreate(),
        status_code=201,
        use_case=replenishment.run,
    )


@router.get("/replenishment-runs")
async def list_replenishment_runs(
    procurement: ProcurementDep,
    limit: Annotated[int, Query(ge=1, le=replenishment.MAX_PAGE)] = 50,
    cursor: CursorQuery = None,
) -> ReplenishmentRunsPage:
    """Runs, asked for and scheduled, newest first; pass `next_cursor` back as `cursor` for the
    next page (it is null on the last page)."""
    async with procurement.unit_of_work() as uow:
        return await replenishment_runs.page(uow=uow, cursor=cursor, limit=limit)


@router.get("/replenishment-runs/{run_id}")
async def get_replenishment_run(run_id: str, procurement: ProcurementDep) -> ReplenishmentRunPublic:
    async with procurement.unit_of_work() as uow:
        return await replenishment_runs.view(uow=uow, run_id=run_id)


@router.get("/replenishment-runs/{run_id}/suggestions")
async def list_run_suggestions(
    run_id: str,
    procurement: ProcurementDep,
    limit: Annotated[int, Query(ge=1, le=replenishment.MAX_PAGE)] = 50,
    cursor: CursorQuery = None,
) -> SuggestionsPage:
    """The run's suggestions by supplier, location and SKU, each with the draft purchase order
    it went on (`po_id`); pass `next_cursor` back as `cursor` for the next page (it is null on
    the last page)."""
    async with procurement.unit_of_work() as uow:
        return await replenishment_runs.suggestions(
            uow=uow, run_id=run_id, cursor=cursor, limit=limit
        )


@router.get("/suggestions")
async def list_suggestions(
    procurement: ProcurementDep,
    status: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=replenishment.MAX_PAGE)] = 50,
    cursor: CursorQuery = None,
) -> SuggestionsPage:
    """Suggestions, newest first; pass `next_cursor` back as `cursor` for the next page (it is
    null on the last page)."""
    async with procurement.unit_of_work() as uow:
        return await replenishment.page(uow=uow, status=status, cursor=cursor, limit=limit)
