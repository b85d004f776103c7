"""Lots over HTTP: a SKU's lots with their stock and age, and one lot traced for a recall."""

from fastapi import APIRouter

from keel_contracts.values import Sku
from keel_inventory import lots
from keel_inventory.context import InventoryDep
from keel_inventory.schemas import LotRecall, LotsPage

router = APIRouter(prefix="/v1", tags=["lots"])


@router.get("/lots")
async def list_lots(sku: Sku, inventory: InventoryDep) -> LotsPage:
    """Every lot of a SKU, the first to expire first, with its units on hand per location and
    its age in days."""
    async with inventory.unit_of_work() as uow:
        return await lots.page(uow=uow, sku=sku)


@router.get("/lots/{lot}")
async def recall_lot(lot: str, sku: Sku, inventory: InventoryDep) -> LotRecall:
    """A lot for a recall: what was received, what is on hand, and `orders`, the orders its
    units were shipped to (404 for a lot the SKU never had)."""
    async with inventory.unit_of_work() as uow:
        return await lots.recall(uow=uow, sku=sku, lot=lot)
