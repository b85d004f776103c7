"""Purchase-order queries: the open lines behind on-order stock, and the receipt lines booked.

None of these tables is part of a batch's deferred writes (see `batch`): they are read and
written straight through the session, so a savepoint rolls them back with its message.
"""

from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_inventory import models
from keel_inventory.models import OnOrderLine, PurchaseReceiptLine


async def purchase_order_lines(
    session: AsyncSession, purchase_order_id: str
) -> dict[str, OnOrderLine]:
    """The order's lines by SKU, open or not."""
    rows = await session.exec(
        select(OnOrderLine).where(OnOrderLine.purchase_order_id == purchase_order_id)
    )
    return {row.sku: row for row in rows.all()}


def add_purchase_order_line(session: AsyncSession, line: OnOrderLine) -> None:
    session.add(line)


async def open_lines_for_sku(session: AsyncSession, sku: str) -> Sequence[OnOrderLine]:
    rows = await session.exec(
        select(OnOrderLine)
        .where(OnOrderLine.sku == sku, col(OnOrderLine.is_open))
        .order_by(col(OnOrderLine.location_id), col(OnOrderLine.expected_date))
    )
    return rows.all()


async def booked_receipt_skus(session: AsyncSession, receipt_id: str) -> set[str]:
    """The SKUs of the receipt already booked into stock."""
    rows = await session.exec(
        select(PurchaseReceiptLine.sku).where(PurchaseReceiptLine.receipt_id == receipt_id)
    )
    return set(rows.all())


def add_receipt_lines(session: AsyncSession, lines: Sequence[PurchaseReceiptLine]) -> None:
    session.add_all(lines)


async def supplier_ratings(
    session: AsyncSession, supplier_ids: Collection[str]
) -> dict[str, Decimal | None]:
    """Each supplier's measured on-time rate, for those procurement has rated."""
    if not supplier_ids:
        return {}
    rows = await session.exec(
        select(models.SupplierRating).where(
            col(models.SupplierRating.supplier_id).in_(list(supplier_ids))
        )
    )
    return {row.supplier_id: row.on_time_rate for row in rows.all()}
