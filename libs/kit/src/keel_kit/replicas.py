"""Local copies of master data another service owns, kept current from the owner's events.

A service never reads another's database (DESIGN §1); the item master is owned by inventory and
every other service that needs SKUs keeps this replica, fed by `inventory.item.v1`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import Numeric
from sqlmodel import Field, SQLModel

from keel_contracts import money, topic_for_message
from keel_contracts.events import ItemRegistered
from keel_contracts.roles import Role
from keel_kit.access import roles, table
from keel_kit.handlers import Handlers, MessageContext
from keel_kit.problems import NotFound
from keel_kit.runtime import RuntimeDep

ITEMS_TOPIC = topic_for_message(ItemRegistered).name


class ItemReplica(SQLModel, table=True):
    __tablename__ = "item_replica"

    sku: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    unit_cost: Decimal = Field(sa_type=Numeric(18, 4))
    currency: str = Field(max_length=3)


def replicate_items(handlers: Handlers) -> None:
    """Subscribe `handlers` to the item master; the newest registration of a SKU wins."""

    @handlers.on(ItemRegistered)
    async def on_item_registered(ctx: MessageContext[Any], event: ItemRegistered) -> None:
        item = await ctx.session.get(ItemReplica, event.sku)
        if item is None:
            item = ItemReplica(
                sku=event.sku,
                name=event.name,
                unit_cost=event.unit_cost.amount,
                currency=event.unit_cost.currency,
            )
        else:
            item.name = event.name
            item.unit_cost = event.unit_cost.amount
            item.currency = event.unit_cost.currency
        ctx.session.add(item)


class ItemReplicaPublic(BaseModel):
    sku: str
    name: str
    unit_cost: Decimal
    currency: str


class ReplicasStatus(BaseModel):
    consumer_group: str
    lag: dict[str, int | None]  # per consumed topic: messages not applied yet; null: unknown


PERMISSIONS = table(
    [
        ("GET", "/v1/replicas/status", roles(Role.OPERATIONS, Role.SERVICE, read=True)),
        ("GET", "/v1/replicas/items/{sku}", roles(Role.OPERATIONS, Role.SERVICE, read=True)),
    ]
)


def replica_router() -> APIRouter:
    """`GET /v1/replicas/items/{sku}`: what this service knows of an item, to check replication;
    `GET /v1/replicas/status`: how far it is behind on each topic it consumes."""
    router = APIRouter(prefix="/v1/replicas", tags=["replicas"])

    @router.get("/status")
    async def get_replicas_status(runtime: RuntimeDep) -> ReplicasStatus:
        lag = await runtime.context.catchup.lags(runtime.handlers.topics())
        return ReplicasStatus(consumer_group=runtime.settings.consumer_group, lag=lag)

    @router.get("/items/{sku}")
    async def get_item_replica(sku: str, runtime: RuntimeDep) -> ItemReplicaPublic:
        async with runtime.db.transaction() as session:
            item = await session.get(ItemReplica, sku)
        if item is None:
            raise NotFound(f"item {sku} has not reached this service")
        return ItemReplicaPublic(
            sku=item.sku,
            name=item.name,
            unit_cost=money.shown(item.unit_cost, item.currency),
            currency=item.currency,
        )

    return router
