"""Returns HTTP API: authorize returns, look them up, and set the return policies."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from keel_contracts.values import Sku
from keel_kit.app import RuntimeDep
from keel_kit.idempotency import IdempotencyKey, idempotent
from keel_returns import service
from keel_returns.schemas import (
    ChannelName,
    ChannelPolicyIn,
    ChannelPolicyPublic,
    ReturnAccepted,
    ReturnCreate,
    ReturnPublic,
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
            cmd=body,
            default_window_days=settings.default_window_days,
        )

    async with runtime.db.transaction() as session:
        return await idempotent(
            session, scope="returns", key=key, request=body, status_code=201, run=run
        )


@router.get("/returns/{return_id}")
async def get_return(return_id: str, runtime: RuntimeDep) -> ReturnPublic:
    async with runtime.db.transaction() as session:
        return await service.get_return(session=session, return_id=return_id)


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
