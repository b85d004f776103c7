"""Every procurement query lives here."""

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.location_replicas import LocationReplica
from keel_kit.replicas import ItemReplica
from keel_procurement.domain import Arrival
from keel_procurement.models import (
    PurchaseOrder,
    PurchaseOrderApproval,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ReplenishmentPolicy,
    Supplier,
)


async def get_supplier(session: AsyncSession, supplier_id: str) -> Supplier | None:
    return await session.get(Supplier, supplier_id)


async def known_skus(session: AsyncSession, skus: set[str]) -> set[str]:
    """The SKUs of `skus` the item replica has heard of."""
    if not skus:
        return set()
    rows = await session.exec(select(ItemReplica.sku).where(col(ItemReplica.sku).in_(skus)))
    return set(rows.all())


async def get_location(session: AsyncSession, location_id: str) -> LocationReplica | None:
    return await session.get(LocationReplica, location_id)


async def get_policy(
    session: AsyncSession, sku: str, location_id: str
) -> ReplenishmentPolicy | None:
    return await session.get(ReplenishmentPolicy, (sku, location_id))


async def get_purchase_order(
    session: AsyncSession, po_id: str, *, lock: bool = False
) -> PurchaseOrder | None:
    """The purchase order; with `lock`, its row is held until the transaction ends (PostgreSQL)
    so two concurrent changes of one order are applied one after the other."""
    return await session.get(PurchaseOrder, po_id, with_for_update=lock)


async def lines_of(session: AsyncSession, po_id: str) -> Sequence[PurchaseOrderLine]:
    rows = await session.exec(
        select(PurchaseOrderLine)
        .where(PurchaseOrderLine.po_id == po_id)
        .order_by(col(PurchaseOrderLine.line_no))
    )
    return rows.all()


async def approvers_of(session: AsyncSession, po_id: str) -> list[str]:
    rows = await session.exec(
        select(PurchaseOrderApproval.approver)
        .where(PurchaseOrderApproval.po_id == po_id)
        .order_by(col(PurchaseOrderApproval.approved_at), col(PurchaseOrderApproval.approver))
    )
    return list(rows.all())


def add_receipt(session: AsyncSession, receipt: Receipt, lines: Sequence[ReceiptLine]) -> None:
    session.add(receipt)
    session.add_all(lines)


async def arrivals(session: AsyncSession, supplier_id: str) -> list[Arrival]:
    """For each of the supplier's orders that has received goods: when it was sent, the date
    promised, and when its first goods arrived."""
    first = func.min(Receipt.received_at)
    rows = await session.exec(
        select(col(PurchaseOrder.sent_at), col(PurchaseOrder.expected_date), first)
        .join(Receipt, col(Receipt.po_id) == col(PurchaseOrder.po_id))
        .where(PurchaseOrder.supplier_id == supplier_id, col(PurchaseOrder.sent_at).is_not(None))
        .group_by(
            col(PurchaseOrder.po_id), col(PurchaseOrder.sent_at), col(PurchaseOrder.expected_date)
        )
    )
    return [
        Arrival(sent_at=sent_at, expected_date=expected, first_received_at=received_at)
        for sent_at, expected, received_at in rows.all()
        if sent_at is not None
    ]
