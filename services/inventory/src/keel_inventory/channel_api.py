"""Channel allocation HTTP API: each sales channel's rule, as its default and per SKU."""

from typing import Annotated

from fastapi import APIRouter, Path

from keel_contracts.values import Sku
from keel_inventory import channel_allocation
from keel_inventory.context import InventoryDep
from keel_inventory.schemas import ChannelRuleIn, ChannelRulePublic, ChannelRulesPublic, Code
from keel_kit.access import PrincipalDep

router = APIRouter(prefix="/v1", tags=["channel allocation"])

ChannelPath = Annotated[Code, Path(description="the order service's channel id")]
SkuPath = Annotated[Sku, Path()]


@router.put("/allocations/{channel_id}")
async def put_channel_default(
    channel_id: ChannelPath, body: ChannelRuleIn, inventory: InventoryDep, principal: PrincipalDep
) -> ChannelRulePublic:
    """Set the channel's default rule, for every SKU without a rule of its own. Fields left out
    do not limit; `{}` lifts every limit. Audited; `version` counts the changes."""
    async with inventory.unit_of_work() as uow:
        return await channel_allocation.set_rule(
            uow=uow, channel_id=channel_id, sku=None, cmd=body, actor=principal
        )


@router.put("/allocations/{channel_id}/{sku}")
async def put_channel_sku_rule(
    channel_id: ChannelPath,
    sku: SkuPath,
    body: ChannelRuleIn,
    inventory: InventoryDep,
    principal: PrincipalDep,
) -> ChannelRulePublic:
    """Set the channel's rule for one SKU (404 for an unknown SKU). It replaces the channel's
    default for that SKU whole: a field left out does not limit, whatever the default says."""
    async with inventory.unit_of_work() as uow:
        return await channel_allocation.set_rule(
            uow=uow, channel_id=channel_id, sku=sku, cmd=body, actor=principal
        )


@router.get("/allocations/{channel_id}")
async def get_channel_rules(channel_id: ChannelPath, inventory: InventoryDep) -> ChannelRulesPublic:
    """The channel's default rule (null if none) and its rules for single SKUs."""
    async with inventory.unit_of_work() as uow:
        return await channel_allocation.rules_of(uow=uow, channel_id=channel_id)


@router.get("/allocations/{channel_id}/{sku}")
async def get_channel_sku_rule(
    channel_id: ChannelPath, sku: SkuPath, inventory: InventoryDep
) -> ChannelRulePublic:
    """The channel's own rule for one SKU; 404 if it has none (its default applies)."""
    async with inventory.unit_of_work() as uow:
        return await channel_allocation.rule_for(uow=uow, channel_id=channel_id, sku=sku)
