"""Returns HTTP API: authorize returns, record their receipt and inspection, approve refunds,
look returns up, sum them up, and set the return policies."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from keel_contracts.values import Sku
from keel_kit.app import RuntimeDep
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.query import SinceQuery
from keel_returns import inspections, refunds, service, summary
from keel_returns.schemas import (
    ChannelName,
    ChannelPolicyIn,
    ChannelPolicyPublic,
    InspectionCreate,
    ReceiptCreate,
    RefundApproval,
    RefundPublic,
    ReturnAccepted,
    ReturnCreate,
    ReturnPublic,
    ReturnsSummary,
    SkuPolicyIn,
    SkuPolicyPublic,
)
from keel_returns.settings import Settings

router = APIRouter(prefix="/v1", tags=["returns"])


def get_settings(runtime: RuntimeDep) -> Settings:
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("the returns API runs on the returns service's settings")
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
SkuPath = Annotated[Sku, Path()]
ChannelPath = Annotated[ChannelName, Path()]


@router.post("/returns", status_code=status.HTTP_201_CREATED, response_model=ReturnAccepted)
async def create_return(
    body: ReturnCreate, runtime: RuntimeDep, settings: SettingsDep, key: IdempotencyKey = None
) -> Response:
    """Authorize the return of shipped units of an order (422 naming the line if refused).

    An order nothing of which has shipped (or that this service has not heard of) is a 422 on
    `order_id`: the request is at fault, not the URL.
    """

    async def run() -> ReturnAccepted:
        return await service.authorize_return(
            session=session,
            outbox=runtime.outbox,
            catchup=runtime.catchup,
            cmd=body,
            default_window_days=settings.default_window_days,
        )

    async with runtime.db.transaction() as session:
        return await idempotent(
            session, scope="returns", key=key, request=body, status_code=201, run=run
        )


# Declared before /returns/{return_id}, which would otherwise take "summary" for a return id.
@router.get("/returns/summary")
async def get_summary(
    runtime: RuntimeDep,
    since: SinceQuery = None,
) -> ReturnsSummary:
    """Returns by status, units by grade, refunds paid and their shortfall, refunds waiting for
    approval, and p50 / p95 seconds from receipt (and from authorization) to refund paid."""
    async with runtime.db.transaction() as session:
        return await summary.summarize(session=session, since=since)


@router.get("/returns/{return_id}")
async def get_return(return_id: str, runtime: RuntimeDep) -> ReturnPublic:
    async with runtime.db.transaction() as session:
        return await service.get_return(session=session, return_id=return_id)


@router.post("/returns/{return_id}/receipt", response_model=ReturnPublic)
async def record_receipt(
    return_id: str, body: ReceiptCreate, runtime: RuntimeDep, key: IdempotencyKey = None
) -> Response:
    """The returned units arrived at `location_id`: no more than authorized (422 naming the
    line); a return already received is a 409. Inventory holds them pending inspection."""

    async def run() -> ReturnPublic:
        await inspections.record_receipt(
            session=session, outbox=runtime.outbox, return_id=return_id, cmd=body
        )
        return await service.get_return(session=session, return_id=return_id)

    async with runtime.db.transaction() as session:
        return await idempotent(
            session,
            scope=f"returns.receipt:{return_id}",
            key=key,
            request=body,
            status_code=200,
            run=run,
        )


@router.post("/returns/{return_id}/inspection", response_model=ReturnPublic)
async def record_inspection(
    return_id: str,
    body: InspectionCreate,
    runtime: RuntimeDep,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> Response:
    """Grade every received unit A (resell), B (refurbish), C (damaged) or D (dispose); the
    refund is worked out at once, and waits for approval above the threshold."""

    async def run() -> ReturnPublic:
        await inspections.record_inspection(
            session=session,
            outbox=runtime.outbox,
            return_id=return_id,
            cmd=body,
            approval_threshold=settings.refund_approval_threshold,
            shipping_policy=settings.refund_shipping,
        )
        return await service.get_return(session=session, return_id=return_id)

    async with runtime.db.transaction() as session:
        return await idempotent(
            session,
            scope=f"returns.inspection:{return_id}",
            key=key,
            request=body,
            status_code=200,
            run=run,
        )


@router.post("/refunds/{refund_id}/approve", response_model=RefundPublic)
async def approve_refund(
    refund_id: str, body: RefundApproval, runtime: RuntimeDep, key: IdempotencyKey = None
) -> Response:
    """A finance approver lets a refund above the threshold go (409 unless it is waiting)."""

    async def run() -> RefundPublic:
        return await refunds.approve_refund(
            session=session, outbox=runtime.outbox, refund_id=refund_id, cmd=body
        )

    async with runtime.db.transaction() as session:
        return await idempotent(
            session,
            scope=f"returns.refund-approval:{refund_id}",
            key=key,
            request=body,
            status_code=200,
            run=run,
        )


@router.put("/return-policies/skus/{sku}")
async def put_sku_policy(sku: SkuPath, body: SkuPolicyIn, runtime: RuntimeDep) -> SkuPolicyPublic:
    """Make a SKU returnable or not (`reason` required when not: customers are told it)."""
    async with runtime.db.transaction() as session:
        return await service.set_sku_policy(session=session, sku=sku, cmd=body)


@router.get("/return-policies/skus/{sku}")
async def get_sku_policy(sku: SkuPath, runtime: RuntimeDep) -> SkuPolicyPublic:
    async with runtime.db.transaction() as session:
        return await service.sku_policy(session=session, sku=sku)


@router.put("/return-policies/channels/{channel}")
async def put_channel_policy(
    channel: ChannelPath, body: ChannelPolicyIn, runtime: RuntimeDep
) -> ChannelPolicyPublic:
    """Set a channel's return window, in days from delivery (from shipment until delivered)."""
    async with runtime.db.transaction() as session:
        return await service.set_channel_policy(session=session, channel=channel, cmd=body)


@router.get("/return-policies/channels/{channel}")
async def get_channel_policy(
    channel: ChannelPath, runtime: RuntimeDep, settings: SettingsDep
) -> ChannelPolicyPublic:
    async with runtime.db.transaction() as session:
        return await service.channel_policy(
            session=session, channel=channel, default_window_days=settings.default_window_days
        )
