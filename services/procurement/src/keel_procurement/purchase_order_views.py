"""A purchase order as the API shows it (the order, its lines, who approved it) and its lines as
events carry them."""

from collections.abc import Sequence
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from keel_contracts import money
from keel_contracts.events import PurchaseOrderLine as EventLine
from keel_contracts.values import Money
from keel_procurement import repository
from keel_procurement.models import PurchaseOrder, PurchaseOrderLine
from keel_procurement.schemas import LinePublic, PurchaseOrderPublic


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
    return PurchaseOrderPublic(
        **po.model_dump(exclude={"updated_at"}),
        lines=[LinePublic.model_validate(line, from_attributes=True) for line in lines],
        approvers=approvers,
    )


def event_line(po: PurchaseOrder, sku: str, quantity: int, unit_cost: Decimal) -> EventLine:
    return EventLine(
        sku=sku,
        quantity=quantity,
        unit_cost=Money(amount=money.shown(unit_cost), currency=po.currency),
    )
