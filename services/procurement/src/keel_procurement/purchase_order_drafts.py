"""Drafting a purchase order, by a person or a replenishment run: the first step of its
lifecycle (the rest is in `purchase_orders`). The draft is announced on
`procurement.purchase_order.v1` in the caller's transaction (the outbox)."""

from keel_contracts import money, new_event_id
from keel_contracts.events import PurchaseOrderDrafted
from keel_kit.problems import DomainError
from keel_procurement import domain, references, repository
from keel_procurement import purchase_order_views as views
from keel_procurement.context import Work
from keel_procurement.domain import Status
from keel_procurement.models import PurchaseOrder, PurchaseOrderLine
from keel_procurement.schemas import PurchaseOrderCreate, PurchaseOrderPublic


def drafted_by_run(run_id: str) -> str:
    """A replenishment run's draft is created by the run, no person: any buyer may approve it."""
    return f"replenishment-run:{run_id}"


async def draft(
    *, uow: Work, cmd: PurchaseOrderCreate, created_by: str, references_checked: bool = False
) -> PurchaseOrderPublic:
    """Draft a purchase order as `created_by` (who may then not approve it). An item or location
    the replicas lack may only not have reached this service yet (see `references`); with
    `references_checked` (the caller took them from procurement's own checked data) a missing
    one is simply unknown."""
    session, outbox = uow.session, uow.outbox
    catchup = None if references_checked else uow.service.catchup
    if await repository.get_supplier(session, cmd.supplier_id) is None:
        raise DomainError(f"unknown supplier {cmd.supplier_id}", field="supplier_id")
    await references.require_location(session, catchup, cmd.location_id)
    fields: dict[str, str] = {}
    for index, line in enumerate(cmd.lines):
        if line.sku in fields:
            raise DomainError(f"sku {line.sku} is on two lines", field=f"lines.{index}.sku")
        fields[line.sku] = f"lines.{index}.sku"
    await references.require_skus(session, catchup, fields)

    total = domain.total((line.quantity, line.unit_cost) for line in cmd.lines)
    po = PurchaseOrder(
        po_id=str(new_event_id()),
        supplier_id=cmd.supplier_id,
        location_id=cmd.location_id,
        currency=cmd.currency,
        status=Status.DRAFT,
        total=total,
        approvals_required=domain.approvals_required(total, uow.service.rules.approval_threshold),
        created_by=created_by,
    )
    lines = [
        PurchaseOrderLine(
            po_id=po.po_id,
            line_no=number,
            sku=line.sku,
            quantity=line.quantity,
            unit_cost=line.unit_cost,
        )
        for number, line in enumerate(cmd.lines, start=1)
    ]
    session.add(po)
    session.add_all(lines)
    outbox.add(
        session,
        PurchaseOrderDrafted(
            purchase_order_id=po.po_id,
            supplier_id=po.supplier_id,
            location_id=po.location_id,
            lines=tuple(
                views.event_line(po, line.sku, line.quantity, line.unit_cost) for line in lines
            ),
            total=money.shown_money(total, po.currency),
        ),
        key=po.po_id,
    )
    return views.public(po, lines, [])
