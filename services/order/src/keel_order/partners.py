"""Channels (marketplaces, web stores) sign their requests (keel_kit.partners); their secrets
are issued here, for channels this service owns."""

from typing import Any

from keel_kit.context import UnitOfWork
from keel_kit.partners_api import secrets_router
from keel_order.models import Channel


async def _known_channel(uow: UnitOfWork[Any], channel_id: str) -> bool:
    return await uow.session.get(Channel, channel_id) is not None


router, PERMISSIONS = secrets_router(
    kind="channel", collection="channels", id_name="channel_id", exists=_known_channel
)
