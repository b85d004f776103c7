"""Procurement HTTP API: thin routers that parse, call a use case, and commit."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keel_kit.app import RuntimeDep
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.query import CursorQuery
from keel_procurement import purchase_orders, replenishment, service
from keel_procurement.purchase_orders import Rules
from keel_procurement.replenishment import Planning
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
    ReceiptCreate,
    ReceiptPublic,
    ReplenishmentRunCreate,
    ReplenishmentRunPublic,
    SuggestionsPage,
    SupplierCreate,
    SupplierPublic,
)


def build_router(rules: Rules, planning: Planning) -> APIRouter:
    """The API, with the purchasing and planning rules the deployment set."""
    router = APIRouter(prefix="/v1", tags=["procurement"])

    @router.post("/suppliers", status_code=status.HTTP_201_CREATED, response_model=SupplierPublic)
    async def create_supplier(
        body: SupplierCreate, runtime: RuntimeDep, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> SupplierPublic:
            supplier = await service.register_supplier(session=session, cmd=body)
            return SupplierPublic.model_validate(supplier, from_attributes=True)

        async with runtime.db.transaction() as session:
            return await idempotent(
                session, scope="suppliers", key=key, request=body, status_code=201, run=run
            )

    @router.get("/suppliers/{supplier_id}")
    async def get_supplier(supplier_id: str, runtime: RuntimeDep) -> SupplierPublic:
        async with runtime.db.transaction() as session:
            return await service.view_supplier(session=session, supplier_id=supplier_id)

    @router.put("/policies/{sku}/{location_id}")
    async def put_policy(
        sku: str, location_id: str, body: PolicyPut, runtime: RuntimeDep
    ) -> PolicyPublic:
        """Create or replace the replenishment policy of a SKU at a location."""
        async with runtime.db.transaction() as session:
            policy = await service.put_policy(
                session=session,
                catchup=runtime.catchup,
                sku=sku,
                location_id=location_id,
                cmd=body,
            )
            return PolicyPublic.model_validate(policy, from_attributes=True)

    @router.get("/policies/{sku}/{location_id}")
    async def get_policy(sku: str, location_id: str, runtime: RuntimeDep) -> PolicyPublic:
        async with runtime.db.transaction() as session:
            return await service.view_policy(session=session, sku=sku, location_id=location_id)

    @router.post(
        "/purchase-orders",
        status_code=status.HTTP_201_CREATED,
        response_model=PurchaseOrderPublic,
    )
    async def create_purchase_order(
        body: PurchaseOrderCreate, runtime: RuntimeDep, key: IdempotencyKey = None
    ) -> Response:
        """Draft a purchase order; it needs approval before it can be sent."""

        async def run() -> PurchaseOrderPublic:
            return await purchase_orders.draft(
                session=session,
                outbox=runtime.outbox,
                rules=rules,
                cmd=body,
                catchup=runtime.catchup,
            )

        async with runtime.db.transaction() as session:
            return await idempotent(
                session, scope="purchase-orders", key=key, request=body, status_code=201, run=run
            )

    @router.get("/purchase-orders/{po_id}")
    async def get_purchase_order(po_id: str, runtime: RuntimeDep) -> PurchaseOrderPublic:
        async with runtime.db.transaction() as session:
            return await purchase_orders.view(session=session, po_id=po_id)

    @router.post("/purchase-orders/{po_id}/approve")
    async def approve(po_id: str, body: ApprovalCreate, runtime: RuntimeDep) -> PurchaseOrderPublic:
        """Approve as `approver`. Above the approval threshold two different approvers are
        needed: the first approval is recorded and the order stays a draft until the second."""
        async with runtime.db.transaction() as session:
            return await purchase_orders.approve(
                session=session, outbox=runtime.outbox, po_id=po_id, cmd=body
            )

    @router.post("/purchase-orders/{po_id}/send")
    async def send(po_id: str, runtime: RuntimeDep) -> PurchaseOrderPublic:
        async with runtime.db.transaction() as session:
            return await purchase_orders.send(session=session, outbox=runtime.outbox, po_id=po_id)

    @router.post("/purchase-orders/{po_id}/confirm")
    async def confirm(
        po_id: str, body: ConfirmationCreate, runtime: RuntimeDep
    ) -> PurchaseOrderPublic:
        """The supplier confirmed the order with the date it expects to deliver."""
        async with runtime.db.transaction() as session:
            return await purchase_orders.confirm(
                session=session, outbox=runtime.outbox, po_id=po_id, cmd=body
            )

    @router.post(
        "/purchase-orders/{po_id}/receipts",
        status_code=status.HTTP_201_CREATED,
        response_model=ReceiptPublic,
    )
    async def receive(
        po_id: str, body: ReceiptCreate, runtime: RuntimeDep, key: IdempotencyKey = None
    ) -> Response:
        """Book goods that arrived. Send an `Idempotency-Key` so a retry is never booked twice."""

        async def run() -> ReceiptPublic:
            return await purchase_orders.receive(
                session=session, outbox=runtime.outbox, rules=rules, po_id=po_id, cmd=body
            )

        async with runtime.db.transaction() as session:
            return await idempotent(
                session, scope=f"receipts:{po_id}", key=key, request=body, status_code=201, run=run
            )

    @router.post("/purchase-orders/{po_id}/cancel")
    async def cancel(
        po_id: str, runtime: RuntimeDep, body: CancelRequest | None = None
    ) -> PurchaseOrderPublic:
        async with runtime.db.transaction() as session:
            return await purchase_orders.cancel(
                session=session, outbox=runtime.outbox, po_id=po_id, cmd=body or CancelRequest()
            )

    @router.post("/purchase-orders/{po_id}/close")
    async def close(po_id: str, runtime: RuntimeDep) -> PurchaseOrderPublic:
        """Expect no more goods: a partly received order is closed short."""
        async with runtime.db.transaction() as session:
            return await purchase_orders.close(session=session, outbox=runtime.outbox, po_id=po_id)

    @router.get("/demand/{sku}/{location_id}")
    async def get_demand(sku: str, location_id: str, runtime: RuntimeDep) -> DemandPublic:
        """The demand signal of a SKU at a location as of today, from the stock issued there."""
        async with runtime.db.transaction() as session:
            return await replenishment.demand(
                session=session, sku=sku, location_id=location_id, planning=planning
            )

    @router.post(
        "/demand-history",
        status_code=status.HTTP_201_CREATED,
        response_model=DemandHistoryPublic,
    )
    async def import_demand_history(
        body: DemandHistoryCreate, runtime: RuntimeDep, key: IdempotencyKey = None
    ) -> Response:
        """Seed demand signals from past daily sales (up to 500 SKU-location series of up to a
        year each), so replenishment can plan from the first day on Keel."""

        async def run() -> DemandHistoryPublic:
            return await replenishment.import_history(
                session=session, history=body, planning=planning
            )

        async with runtime.db.transaction() as session:
            return await idempotent(
                session,
                scope="demand-history",
                key=key,
                request=body,
                status_code=201,
                run=run,
            )

    @router.post(
        "/replenishment-runs",
        status_code=status.HTTP_201_CREATED,
        response_model=ReplenishmentRunPublic,
    )
    async def create_replenishment_run(
        runtime: RuntimeDep, key: IdempotencyKey = None, body: ReplenishmentRunCreate | None = None
    ) -> Response:
        """Review every policy now: suggest what is at or below its reorder point and draft one
        purchase order per supplier and location (the same run the schedule makes)."""

        async def run() -> ReplenishmentRunPublic:
            return await replenishment.run(
                session=session, outbox=runtime.outbox, rules=rules, planning=planning
            )

        async with runtime.db.transaction() as session:
            return await idempotent(
                session,
                scope="replenishment-runs",
                key=key,
                request=body or ReplenishmentRunCreate(),
                status_code=201,
                run=run,
            )

    @router.get("/suggestions")
    async def list_suggestions(
        runtime: RuntimeDep,
        status: Annotated[str | None, Query(max_length=30)] = None,
        limit: Annotated[int, Query(ge=1, le=replenishment.MAX_PAGE)] = 50,
        cursor: CursorQuery = None,
    ) -> SuggestionsPage:
        """Suggestions, newest first; pass `next_cursor` back as `cursor` for the next page."""
        async with runtime.db.transaction() as session:
            return await replenishment.page(
                session=session, status=status, cursor=cursor, limit=limit
            )

    return router
