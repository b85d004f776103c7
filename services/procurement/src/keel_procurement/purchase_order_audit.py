"""What the audit trail keeps of a purchase order's governed steps (see `keel_kit.audit`): who
took the step, and the order before and after it: its status and total, and what the step is
about (approvers, dates, units received and their lots). Appended in the step's own
transaction, so an entry exists exactly when the step committed.

Only steps a person takes over HTTP are recorded; a replenishment run drafting orders is not."""

from collections.abc import Iterable, Mapping
from typing import Any

from keel_contracts import money
from keel_contracts.roles import Role
from keel_kit import audit
from keel_kit.identity import Principal
from keel_procurement.context import Work
from keel_procurement.models import PurchaseOrder, PurchaseOrderLine
from keel_procurement.receipt_lots import LotOf

State = dict[str, Any]  # JSON-able, as the trail stores it


def state(po: PurchaseOrder, **details: Any) -> State:
    """The order as the trail shows it; `details` add what the step is about."""
    return {
        "status": str(po.status),
        "total": str(money.shown(po.total, po.currency)),
        "currency": po.currency,
        **details,
    }


def received(lines: Iterable[PurchaseOrderLine]) -> dict[str, int]:
    """Units received so far, by SKU."""
    return {line.sku: line.received_quantity for line in lines}


def lots(by_sku: Mapping[str, LotOf]) -> State:
    """`lots`, the lot (and its expiry) of each SKU that arrived in one, when any did."""
    named = {
        sku: {"lot": lot, "expires_on": expires_on.isoformat() if expires_on else None}
        for sku, (lot, expires_on) in by_sku.items()
        if lot is not None
    }
    return {"lots": named} if named else {}


async def record(
    uow: Work,
    *,
    actor: Principal,
    action: str,
    po: PurchaseOrder,
    before: State,
    after: State,
    reason: str | None = None,
    owner_role: Role = Role.PROCUREMENT,
) -> None:
    """Append `action` on `po` by `actor`; buyers own the trail of their orders, warehouse that
    of the goods it receives (`owner_role`)."""
    await audit.record(
        uow,
        actor=actor,
        action=action,
        object_type="purchase_order",
        object_id=po.po_id,
        owner_role=owner_role,
        before=before,
        after=after,
        reason=reason,
    )
