"""Every procurement query lives here."""

from collections.abc import Collection, Sequence

from sqlalchemy import case, func, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_kit.location_replicas import LocationReplica
from keel_kit.replicas import ItemReplica
from keel_procurement.domain import Arrival, Status
from keel_procurement.models import (
    DemandSignal,
    PurchaseOrder,
    PurchaseOrderApproval,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ReplenishmentPolicy,
    ReplenishmentRun,
    ReplenishmentSuggestion,
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
    first promised, and when its first goods arrived."""
    rows = await session.exec(
        select(
            col(PurchaseOrder.sent_at),
            col(PurchaseOrder.promised_date),
            col(PurchaseOrder.first_received_at),
        ).where(
            PurchaseOrder.supplier_id == supplier_id,
            col(PurchaseOrder.sent_at).is_not(None),
            col(PurchaseOrder.first_received_at).is_not(None),
        )
    )
    return [
        Arrival(sent_at=sent_at, promised_date=promised, first_received_at=received_at)
        for sent_at, promised, received_at in rows.all()
        if sent_at is not None and received_at is not None
    ]


# Orders whose goods are all in, or that expect no more: what the supplier delivered is final.
FINISHED_STATUSES = (Status.RECEIVED, Status.CLOSED)


async def fills(session: AsyncSession, supplier_id: str) -> list[tuple[int, int]]:
    """Per finished order of the supplier: units ordered and units filled (received, up to each
    line's ordered quantity; see `domain.fill_record`)."""
    line = PurchaseOrderLine
    filled = case(
        (col(line.received_quantity) < col(line.quantity), col(line.received_quantity)),
        else_=col(line.quantity),
    )
    rows = await session.exec(
        select(func.sum(line.quantity), func.sum(filled))
        .join(PurchaseOrder, col(PurchaseOrder.po_id) == col(line.po_id))
        .where(
            PurchaseOrder.supplier_id == supplier_id,
            col(PurchaseOrder.status).in_(FINISHED_STATUSES),
        )
        .group_by(col(line.po_id))
    )
    return [(int(ordered or 0), int(done or 0)) for ordered, done in rows.all()]


# Purchase orders whose remaining units are still owed to us: they count toward the position.
OPEN_STATUSES = (
    Status.DRAFT,
    Status.APPROVED,
    Status.SENT,
    Status.CONFIRMED,
    Status.PARTIALLY_RECEIVED,
)


async def get_demand_signal(
    session: AsyncSession, sku: str, location_id: str
) -> DemandSignal | None:
    return await session.get(DemandSignal, (sku, location_id))


_LOADED_SIGNALS = "keel_procurement.signals"


async def load_demand_signals(session: AsyncSession, keys: set[tuple[str, str]]) -> None:
    """Read these (SKU, location) signals into `loaded_signals` (None for one not there yet),
    afresh: a rolled-back savepoint may have left the session's copies stale."""
    if not keys:
        return
    rows = await session.exec(
        select(DemandSignal)
        .where(tuple_(col(DemandSignal.sku), col(DemandSignal.location_id)).in_(keys))
        .execution_options(populate_existing=True)
    )
    found = {(row.sku, row.location_id): row for row in rows.all()}
    loaded_signals(session).update({key: found.get(key) for key in keys})


def loaded_signals(session: AsyncSession) -> dict[tuple[str, str], DemandSignal | None]:
    """The signals this transaction has read or started, by (SKU, location): kept in
    `session.info`, as the session's identity map holds objects only weakly."""
    signals: dict[tuple[str, str], DemandSignal | None]
    signals = session.info.setdefault(_LOADED_SIGNALS, {})
    return signals


async def demand_signals(session: AsyncSession) -> dict[tuple[str, str], DemandSignal]:
    rows = await session.exec(select(DemandSignal))
    return {(row.sku, row.location_id): row for row in rows.all()}


async def policies(session: AsyncSession) -> Sequence[ReplenishmentPolicy]:
    rows = await session.exec(
        select(ReplenishmentPolicy).order_by(
            col(ReplenishmentPolicy.supplier_id),
            col(ReplenishmentPolicy.location_id),
            col(ReplenishmentPolicy.sku),
        )
    )
    return rows.all()


async def on_order(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Units ordered and not yet received per (SKU, location), over the open purchase orders
    (drafts included, so a second run does not order the same units again)."""
    owed = func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received_quantity)
    rows = await session.exec(
        select(col(PurchaseOrderLine.sku), col(PurchaseOrder.location_id), owed)
        .join(PurchaseOrder, col(PurchaseOrder.po_id) == col(PurchaseOrderLine.po_id))
        .where(col(PurchaseOrder.status).in_(OPEN_STATUSES))
        .group_by(col(PurchaseOrderLine.sku), col(PurchaseOrder.location_id))
    )
    return {(sku, location_id): max(int(units or 0), 0) for sku, location_id, units in rows.all()}


async def items(session: AsyncSession, skus: set[str]) -> dict[str, ItemReplica]:
    if not skus:
        return {}
    rows = await session.exec(select(ItemReplica).where(col(ItemReplica.sku).in_(skus)))
    return {item.sku: item for item in rows.all()}


async def suggestions(
    session: AsyncSession, *, status: str | None, before: str | None, limit: int
) -> Sequence[ReplenishmentSuggestion]:
    """Newest first: suggestion ids are UUIDv7, so they sort by creation time."""
    query = select(ReplenishmentSuggestion)
    if status is not None:
        query = query.where(ReplenishmentSuggestion.status == status)
    if before is not None:
        query = query.where(col(ReplenishmentSuggestion.suggestion_id) < before)
    rows = await session.exec(
        query.order_by(col(ReplenishmentSuggestion.suggestion_id).desc()).limit(limit)
    )
    return rows.all()


async def get_run(session: AsyncSession, run_id: str) -> ReplenishmentRun | None:
    return await session.get(ReplenishmentRun, run_id)


async def runs(
    session: AsyncSession, *, before: str | None, limit: int
) -> Sequence[ReplenishmentRun]:
    """Newest first: run ids are UUIDv7, so they sort by when the run was made."""
    query = select(ReplenishmentRun)
    if before is not None:
        query = query.where(col(ReplenishmentRun.run_id) < before)
    rows = await session.exec(query.order_by(col(ReplenishmentRun.run_id).desc()).limit(limit))
    return rows.all()


async def suggestions_of_run(
    session: AsyncSession, run_id: str, *, after: tuple[str, str, str] | None, limit: int
) -> Sequence[ReplenishmentSuggestion]:
    """The run's suggestions by (supplier, location, SKU), so those that went on one purchase
    order come together, from after the position `after`. A run suggests a SKU at a location
    at most once (its policy's), so the position is unique."""
    suggestion = ReplenishmentSuggestion
    position = tuple_(col(suggestion.supplier_id), col(suggestion.location_id), col(suggestion.sku))
    query = select(suggestion).where(suggestion.run_id == run_id)
    if after is not None:
        query = query.where(position > tuple_(*after))
    rows = await session.exec(
        query.order_by(
            col(suggestion.supplier_id), col(suggestion.location_id), col(suggestion.sku)
        ).limit(limit)
    )
    return rows.all()


async def purchase_orders_in(
    session: AsyncSession,
    *,
    statuses: Collection[str],
    location_id: str | None,
    after: str | None,
    limit: int,
) -> Sequence[PurchaseOrder]:
    """Purchase orders in the statuses (for one location, if given), the oldest first (ids are
    UUIDv7s, which sort by time), from after the id `after`."""
    query = select(PurchaseOrder).where(col(PurchaseOrder.status).in_(statuses))
    if location_id is not None:
        query = query.where(PurchaseOrder.location_id == location_id)
    if after is not None:
        query = query.where(col(PurchaseOrder.po_id) > after)
    return (await session.exec(query.order_by(col(PurchaseOrder.po_id)).limit(limit))).all()


async def suppliers(session: AsyncSession, *, after: str | None, limit: int) -> Sequence[Supplier]:
    """Suppliers by id, from after the id `after`."""
    query = select(Supplier)
    if after is not None:
        query = query.where(col(Supplier.supplier_id) > after)
    return (await session.exec(query.order_by(col(Supplier.supplier_id)).limit(limit))).all()
