"""Finance HTTP API."""

from typing import Annotated

from fastapi import APIRouter, Query

from keel_finance import domain, reconciliation, repository, service
from keel_finance.reconciliation import InventoryDep
from keel_finance.schemas import (
    InventoryReconciliation,
    JournalEntryPublic,
    JournalLinePublic,
    MarginsPublic,
    PaymentPublic,
    StockValuationPage,
    StockValuationPublic,
    TrialBalance,
)
from keel_kit.app import RuntimeDep
from keel_kit.problems import NotFound
from keel_kit.query import CursorQuery, SinceQuery

router = APIRouter(prefix="/v1", tags=["finance"])


@router.get("/trial-balance")
async def get_trial_balance(runtime: RuntimeDep) -> TrialBalance:
    async with runtime.db.transaction() as session:
        return await service.trial_balance(session=session)


@router.get("/margins")
async def get_margins(runtime: RuntimeDep, since: SinceQuery = None) -> MarginsPublic:
    """Revenue, cost of goods sold and margin per sales channel, from the journal entries
    posted since `since` (ISO 8601; all of them without it)."""
    async with runtime.db.transaction() as session:
        return await service.margins(session=session, since=since)


@router.get("/journal")
async def get_journal(source_id: str, runtime: RuntimeDep) -> list[JournalEntryPublic]:
    async with runtime.db.transaction() as session:
        entries = await repository.entries_for_source(session, source_id)
    return [
        JournalEntryPublic(
            **entry.model_dump(),
            lines=[
                JournalLinePublic(
                    account=line.account,
                    account_name=domain.ACCOUNTS[line.account].name,
                    debit=line.debit,
                    credit=line.credit,
                )
                for line in lines
            ],
        )
        for entry, lines in entries
    ]


@router.get("/payments/{order_id}")
async def get_payment(order_id: str, runtime: RuntimeDep) -> PaymentPublic:
    async with runtime.db.transaction() as session:
        payment = await repository.get_payment(session, order_id)
    if payment is None:
        raise NotFound(f"no payment for order {order_id}")
    return PaymentPublic(
        **payment.model_dump(exclude={"amount", "captured_amount", "refunded_amount"}),
        amount=domain.canonical(payment.amount),
        captured_amount=domain.canonical(payment.captured_amount),
        refunded_amount=domain.canonical(payment.refunded_amount),
    )


@router.get("/valuation")
async def list_valuation(
    runtime: RuntimeDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> StockValuationPage:
    """Stock at moving average cost per SKU, in SKU order; `cursor` is the last page's
    `next_cursor`."""
    async with runtime.db.transaction() as session:
        return await service.valuations(session=session, after=cursor, limit=limit)


@router.get("/valuation/{sku}")
async def get_valuation(sku: str, runtime: RuntimeDep) -> StockValuationPublic:
    async with runtime.db.transaction() as session:
        return await service.valuation(session=session, sku=sku)


@router.get("/reconciliation/inventory")
async def get_inventory_reconciliation(
    runtime: RuntimeDep, inventory: InventoryDep
) -> InventoryReconciliation:
    """The inventory account against the valuations, and each SKU's valued quantity against the
    units inventory holds in sellable (reserved included), quarantine and damaged. A 503 if
    inventory cannot be asked."""
    # Asked before finance's transaction opens, so no database lock waits on inventory.
    stock = await inventory.valued_quantities()
    async with runtime.db.transaction() as session:
        return await reconciliation.reconcile(session=session, inventory=stock)
