"""A purchase order as the API shows it (the order, its lines, who approved it) and its lines as
events carry them."""

from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import money
from keel_contracts.events import PurchaseOrderLine as EventLine
from keel_contracts.events import ReceivedLine
from keel_procurement import repository
from keel_procurement.models import PurchaseOrder, PurchaseOrderLine
from keel_procurement.receipt_lots import LotOf
from keel_procurement.schemas import LinePublic, PurchaseOrderPublic, PurchaseOrdersPage


async def view_of(
    session: AsyncSession,
    po: PurchaseOrder,
    approvers: list[str] | None = None,
    *,
    lines: Sequence[PurchaseOrderLine] | None = None,
) -> PurchaseOrderPublic:
    """The order's public view; lines and approvers not given are read."""
    if lines is None:
        lines = await repository.lines_of(session, po.po_id)
    if approvers is None:
        approvers = await repository.approvers_of(session, po.po_id)
    return public(po, lines, approvers)


def public(
    po: PurchaseOrder, lines: Sequence[PurchaseOrderLine], approvers: list[str]
) -> PurchaseOrderPublic:
    """Amounts with the places of the order's currency (`money.shown`): 1500 JPY, 1.500 KWD."""
    return PurchaseOrderPublic(
        **po.model_dump(exclude={"updated_at", "total"}),
        total=money.shown(po.total, po.currency),
        lines=[
            LinePublic(
                sku=line.sku,
                quantity=line.quantity,
                unit_cost=money.shown(line.unit_cost, po.currency),
                received_quantity=line.received_quantity,
            )
            for line in lines
        ],
        approvers=approvers,
    )


async def purchase_orders_page(
    session: AsyncSession,
    *,
    statuses: Collection[str],
    location_id: str | None,
    limit: int,
    cursor: str | None,
) -> PurchaseOrdersPage:
    """One page of the purchase orders in `statuses` (bound for `location_id`, if given), the
    oldest first, each with its lines and who approved it so far."""
    found = await repository.purchase_orders_in(
        session, statuses=statuses, location_id=location_id, after=cursor, limit=limit + 1
    )
    items = [await view_of(session, po) for po in found[:limit]]
    return PurchaseOrdersPage(
        items=items, next_cursor=items[-1].po_id if len(found) > limit else None
    )


def event_line(po: PurchaseOrder, sku: str, quantity: int, unit_cost: Decimal) -> EventLine:
    return EventLine(
        sku=sku, quantity=quantity, unit_cost=money.shown_money(unit_cost, po.currency)
    )


def received_line(
    po: PurchaseOrder, sku: str, quantity: int, unit_cost: Decimal, lot: LotOf
) -> ReceivedLine:
    code, expires_on = lot
    return ReceivedLine(
        sku=sku,
        quantity=quantity,
        unit_cost=money.shown_money(unit_cost, po.currency),
        lot=code,
        expires_on=expires_on,
    )
