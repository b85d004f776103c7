"""A local copy of inventory's locations, for services that route work to warehouses.

Kept apart from the item replica so that only services that import it get its table.
"""

from typing import Any

from sqlmodel import Field, SQLModel

from keel_contracts import topic_for_message
from keel_contracts.events import LocationRegistered
from keel_kit.handlers import Handlers, MessageContext

LOCATIONS_TOPIC = topic_for_message(LocationRegistered).name


class LocationReplica(SQLModel, table=True):
    __tablename__ = "location_replica"

    location_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    country: str = Field(max_length=2)
    postal_code: str = Field(max_length=20)


def replicate_locations(handlers: Handlers) -> None:
    """Subscribe `handlers` to inventory's locations (warehouses, stores, 3PLs)."""

    @handlers.on(LocationRegistered)
    async def on_location_registered(ctx: MessageContext[Any], event: LocationRegistered) -> None:
        await ctx.session.merge(LocationReplica(**event.model_dump()))
