"""Finance HTTP API."""

from typing import Annotated

from fastapi import APIRouter, Query

from keel_finance import reconciliation, sales, service
from keel_finance.context import FinanceDep
from keel_finance.margins import service as margins
from keel_finance.payments import service as payment_service
from keel_finance.schemas import (
    InventoryReconciliation,
    JournalEntryPublic,
    MarginsPublic,
    PaymentPublic,
    SalesPage,
    StockValuationPage,
    StockValuationPublic,
    TrialBalance,
)
from keel_kit.query import CursorQuery, SinceQuery

router = APIRouter(prefix="/v1", tags=["finance"])


@router.get("/trial-balance")
async def get_trial_balance(finance: FinanceDep) -> TrialBalance:
    async with finance.unit_of_work() as uow:
        return await service.trial_balance(uow=uow)


@router.get("/margins")
async def get_margins(finance: FinanceDep, since: SinceQuery = None) -> MarginsPublic:
    """Revenue, cost of goods sold and margin per sales channel, from the journal entries
    posted since `since` (ISO 8601; all of them without it)."""
    async with finance.unit_of_work() as uow:
        return await margins.by_channel(uow=uow, since=since)


@router.get("/journal")
async def get_journal(source_id: str, finance: FinanceDep) -> list[JournalEntryPublic]:
    async with finance.unit_of_work() as uow:
        return await service.journal(uow=uow, source_id=source_id)


@router.get("/payments/{order_id}")
async def get_payment(order_id: str, finance: FinanceDep) -> PaymentPublic:
    async with finance.unit_of_work() as uow:
        return await payment_service.payment(uow=uow, order_id=order_id)


@router.get("/valuation")
async def list_valuation(
    finance: FinanceDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> StockValuationPage:
    """Stock at moving average cost per SKU, in SKU order; `cursor` is the last page's
    `next_cursor`."""
    async with finance.unit_of_work() as uow:
        return await service.valuations(uow=uow, cursor=cursor, limit=limit)


@router.get("/sales")
async def list_sales(
    finance: FinanceDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SalesPage:
    """Every posted sale with what the customer owes, in order id order; `cursor` is the last
    page's `next_cursor`. `keel check` matches them with the order service's shipped orders."""
    async with finance.unit_of_work() as uow:
        return await sales.posted_sales(uow=uow, cursor=cursor, limit=limit)


@router.get("/valuation/{sku}")
async def get_valuation(sku: str, finance: FinanceDep) -> StockValuationPublic:
    async with finance.unit_of_work() as uow:
        return await service.valuation(uow=uow, sku=sku)


@router.get("/reconciliation/inventory")
async def get_inventory_reconciliation(finance: FinanceDep) -> InventoryReconciliation:
    """The inventory account against the valuations, and each SKU's valued quantity against the
    units inventory holds in sellable (reserved included), quarantine, damaged and in transit.
    A 503 if inventory cannot be asked."""
    async with finance.unit_of_work() as uow:
        return await reconciliation.reconcile_inventory(uow=uow)
