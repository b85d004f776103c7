"""Warehouses' systems sign their requests (keel_kit.partners); their secrets are issued here,
for locations this service knows from inventory's location topic."""

from typing import Any

from keel_kit.context import UnitOfWork
from keel_kit.location_replicas import LocationReplica
from keel_kit.partners_api import secrets_router


async def _known_location(uow: UnitOfWork[Any], location_id: str) -> bool:
    return await uow.session.get(LocationReplica, location_id) is not None


router, PERMISSIONS = secrets_router(
    kind="warehouse", collection="warehouses", id_name="location_id", exists=_known_location
)
