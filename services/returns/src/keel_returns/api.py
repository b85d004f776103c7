"""Returns HTTP API: authorize returns, record their receipt and inspection, approve refunds,
look returns up or list them by status, sum them up, and set the return policies."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from keel_contracts.values import Sku
from keel_kit.access import PrincipalDep, acting_person
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_kit.query import CursorQuery, SinceQuery
from keel_returns import inspections, refunds, service, summary
from keel_returns.context import ReturnsDep
from keel_returns.domain import RefundStatus, ReturnStatus
from keel_returns.schemas import (
    ChannelName,
    ChannelPolicyIn,
    ChannelPolicyPublic,
    InspectionCreate,
    ReceiptCreate,
    RefundApproval,
    RefundPublic,
    RefundsPage,
    ReturnAccepted,
    ReturnCreate,
    ReturnPublic,
    ReturnsPage,
    ReturnsSummary,
    SkuPolicyIn,
    SkuPolicyPublic,
)

router = APIRouter(prefix="/v1", tags=["returns"])

SkuPath = Annotated[Sku, Path()]
ChannelPath = Annotated[ChannelName, Path()]


@router.post("/returns", status_code=status.HTTP_201_CREATED, response_model=ReturnAccepted)
async def create_return(
    body: ReturnCreate, returns: ReturnsDep, principal: PrincipalDep, key: IdempotencyKey = None
) -> Response:
    """Authorize the return of shipped units of an order (422 naming the line if refused).

    An order nothing of which has shipped (or that this service has not heard of) is a 422 on
    `order_id`: the request is at fault, not the URL.
    """
    return await idempotent(
        returns,
        scope="returns",
        key=key,
        request=body,
        status_code=201,
        use_case=service.authorize_return,
        cmd=body,
        actor=principal,
    )


@router.get("/returns")
async def list_returns(
    returns: ReturnsDep,
    status: ReturnStatus = ReturnStatus.AUTHORIZED,
    location_id: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
) -> ReturnsPage:
    """Returns in one status, the oldest first: by default those authorized and waiting to be
    received; `received` ones wait for their inspection, and `location_id` keeps those received
    there (an authorized return is at no location yet: a 422). Pass `next_cursor` back as
    `cursor` for more."""
    async with returns.unit_of_work() as uow:
        return await service.returns_page(
            uow=uow, status=status, location_id=location_id, limit=limit, cursor=cursor
        )


# Declared before /returns/{return_id}, which would otherwise take "summary" for a return id.
@router.get("/returns/summary")
async def get_summary(returns: ReturnsDep, since: SinceQuery = None) -> ReturnsSummary:
    """Returns by status, units by grade, refunds paid and their shortfall, refunds waiting for
    approval, and p50 / p95 seconds from receipt (and from authorization) to refund paid."""
    async with returns.unit_of_work() as uow:
        return await summary.summarize(uow=uow, since=since)


@router.get("/returns/{return_id}")
async def get_return(return_id: str, returns: ReturnsDep) -> ReturnPublic:
    async with returns.unit_of_work() as uow:
        return await service.get_return(uow=uow, return_id=return_id)


@router.post("/returns/{return_id}/receipt", response_model=ReturnPublic)
async def record_receipt(
    return_id: str,
    body: ReceiptCreate,
    returns: ReturnsDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """The returned units arrived at `location_id`: no more than authorized (422 naming the
    line); a return already received is a 409. Inventory holds them pending inspection."""
    return await idempotent(
        returns,
        scope=f"returns.receipt:{return_id}",
        key=key,
        request=body,
        status_code=200,
        use_case=inspections.record_receipt,
        return_id=return_id,
        cmd=body,
        actor=principal,
    )


@router.post("/returns/{return_id}/inspection", response_model=ReturnPublic)
async def record_inspection(
    return_id: str,
    body: InspectionCreate,
    returns: ReturnsDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Grade every received unit A (resell), B (refurbish), C (damaged) or D (dispose); the
    refund is worked out at once, and waits for approval above the threshold."""
    return await idempotent(
        returns,
        scope=f"returns.inspection:{return_id}",
        key=key,
        request=body,
        status_code=200,
        use_case=inspections.record_inspection,
        return_id=return_id,
        cmd=body,
        actor=principal,
    )


@router.get("/refunds")
async def list_refunds(
    returns: ReturnsDep,
    status: RefundStatus = RefundStatus.PENDING_APPROVAL,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
) -> RefundsPage:
    """Refunds in one status, the oldest first: by default those waiting for a finance
    approver. Pass `next_cursor` back as `cursor` for more."""
    async with returns.unit_of_work() as uow:
        return await refunds.refunds_page(uow=uow, status=status, limit=limit, cursor=cursor)


@router.post("/refunds/{refund_id}/approve", response_model=RefundPublic)
async def approve_refund(
    refund_id: str,
    returns: ReturnsDep,
    principal: PrincipalDep,
    body: RefundApproval | None = None,
    key: IdempotencyKey = None,
) -> Response:
    """The caller, a finance approver, lets a refund waiting for approval go (409 unless it is
    waiting). The body may be left out; an `approver` other than the caller is a 403."""
    approver = acting_person(principal, body.approver if body else None, field="approver")
    return await idempotent(
        returns,
        scope=f"returns.refund-approval:{refund_id}",
        key=key,
        # The request as it acts, approver filled in: a retry with or without the name replays,
        # while another person reusing the key is a 422, never handed the first one's answer.
        request=RefundApproval(approver=approver),
        status_code=200,
        use_case=refunds.approve_refund,
        refund_id=refund_id,
        actor=principal,
    )


@router.put("/return-policies/skus/{sku}")
async def put_sku_policy(
    sku: SkuPath, body: SkuPolicyIn, returns: ReturnsDep, principal: PrincipalDep
) -> SkuPolicyPublic:
    """Make a SKU returnable or not (`reason` required when not: customers are told it)."""
    async with returns.unit_of_work() as uow:
        return await service.set_sku_policy(uow=uow, sku=sku, cmd=body, actor=principal)


@router.get("/return-policies/skus/{sku}")
async def get_sku_policy(sku: SkuPath, returns: ReturnsDep) -> SkuPolicyPublic:
    async with returns.unit_of_work() as uow:
        return await service.sku_policy(uow=uow, sku=sku)


@router.put("/return-policies/channels/{channel}")
async def put_channel_policy(
    channel: ChannelPath, body: ChannelPolicyIn, returns: ReturnsDep, principal: PrincipalDep
) -> ChannelPolicyPublic:
    """Set a channel's return window, in days from delivery (from shipment until delivered)."""
    async with returns.unit_of_work() as uow:
        return await service.set_channel_policy(uow=uow, channel=channel, cmd=body, actor=principal)


@router.get("/return-policies/channels/{channel}")
async def get_channel_policy(channel: ChannelPath, returns: ReturnsDep) -> ChannelPolicyPublic:
    async with returns.unit_of_work() as uow:
        return await service.channel_policy(uow=uow, channel=channel)
