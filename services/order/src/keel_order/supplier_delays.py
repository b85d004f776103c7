"""Supplier delays (DESIGN §2): a late purchase order puts a notice on the orders it keeps waiting.

Every backordered order still waiting for stock with a line for one of the delayed SKUs gets a
`supplier_delay` hold, owned by customer service (they tell the customer), referring to the
purchase order: `GET /v1/exceptions?type=supplier_delay&reference={po}` lists them all. It is a
notice, not a gate: the order stays backordered and confirms when the stock comes, and the saga
closes the notice then (saga.on_stock_reserved).

A second delay of the same purchase order renews the order's open notice for it (new reason, SLA
counted afresh) rather than opening another; once a person has closed it, a new delay is news
again and opens a new one.
"""

from keel_contracts.events import PurchaseOrderDelayed
from keel_kit.handlers import PermanentError
from keel_order import domain, lifecycle, repository
from keel_order.context import Work
from keel_order.domain import HoldType
from keel_order.models import REFERENCE_LENGTH, Order, OrderHold
from keel_order.notifications import service as notifications


async def on_purchase_order_delayed(*, uow: Work, event: PurchaseOrderDelayed) -> None:
    po_id = event.purchase_order_id
    if len(po_id) > REFERENCE_LENGTH:
        # Refused here, not by the database when the batch commits, so it fails alone.
        raise PermanentError(f"purchase order id longer than {REFERENCE_LENGTH}")
    delayed = {line.sku for line in event.lines}
    if not delayed:
        return  # nothing is outstanding: nobody waits for this order any more
    now = uow.service.clock()
    for order in await repository.orders_waiting_for(uow.session, delayed):
        notice = domain.supplier_delay(
            purchase_order_id=po_id,
            supplier_id=event.supplier_id,
            skus=(line.sku for line in order.lines if line.sku in delayed),
            previous_expected_at=event.previous_expected_at,
            expected_at=event.expected_at,
        )
        known = _open_notice(order, po_id)
        if known is None:
            lifecycle.open_hold(order, notice, now=now)
        else:
            lifecycle.renew_hold(known, notice, now=now)
        # The order's promise moves with the goods it waits for: never earlier than they come.
        expected = event.expected_at.date()
        if order.promised_date is not None and order.promised_date < expected:
            order.promised_date = expected
        notifications.on_delay(uow, order, expected.isoformat())
        uow.session.add(order)


def _open_notice(order: Order, po_id: str) -> OrderHold | None:
    return next(
        (
            hold
            for hold in order.holds
            if hold.type == HoldType.SUPPLIER_DELAY
            and hold.reference == po_id
            and hold.resolved_at is None
        ),
        None,
    )
