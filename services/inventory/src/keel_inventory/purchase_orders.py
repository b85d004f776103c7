"""Purchase orders seen from the stock: what is on order, and receipts that become sellable.

A confirmed order opens a line per SKU at its location, on order until received, cancelled or
closed; on-order stock is never sellable. A supplier's delay moves the open lines to its new
date. A receipt books its lines through the same path as `POST /v1/receipts` (ledger movement,
`stock.received`, the backorder queue served), marked with its purchase order, in the lot its
line names (if any), once per (receipt, SKU) however often it is delivered.
"""

from pydantic import ValidationError

from keel_contracts import Envelope
from keel_contracts.events import (
    PurchaseOrderCancelled,
    PurchaseOrderClosed,
    PurchaseOrderConfirmed,
    PurchaseOrderDelayed,
    PurchaseOrderReceived,
    SupplierRated,
)
from keel_inventory import domain, repository, service
from keel_inventory.context import Work
from keel_inventory.models import (
    PURCHASE_ORDER_ID_LENGTH,
    RECEIPT_ID_LENGTH,
    SUPPLIER_ID_LENGTH,
    OnOrderLine,
    PurchaseReceiptLine,
    SupplierRating,
)
from keel_inventory.schemas import ReceiptCreate
from keel_kit.handlers import PermanentError
from keel_kit.problems import DomainError


async def record_confirmed(*, uow: Work, event: PurchaseOrderConfirmed) -> None:
    """Put the order's lines on order at its location, due on the expected date.

    A repeated confirmation (a redelivery, or a new date) updates the lines still open; a
    cancelled or closed order is not reopened.
    """
    session = uow.session
    po_id = event.purchase_order_id
    _check_id(po_id)
    if len(event.supplier_id) > SUPPLIER_ID_LENGTH:
        raise PermanentError(f"purchase order {po_id}: supplier id too long")
    if await repository.get_location(session, event.location_id) is None:
        raise PermanentError(f"purchase order {po_id}: unknown location {event.location_id}")
    ordered = domain.merge_lines((line.sku, line.quantity) for line in event.lines)
    for sku in ordered:
        if await repository.get_item(session, sku) is None:
            raise PermanentError(f"purchase order {po_id}: unknown sku {sku}")
    expected = event.expected_at.date()
    known = await repository.purchase_order_lines(session, po_id)
    for sku, quantity in ordered.items():
        line = known.get(sku)
        if line is None:
            repository.add_purchase_order_line(
                session,
                OnOrderLine(
                    purchase_order_id=po_id,
                    sku=sku,
                    location_id=event.location_id,
                    supplier_id=event.supplier_id,
                    ordered=quantity,
                    expected_date=expected,
                ),
            )
        elif line.is_open:
            line.location_id = event.location_id
            line.supplier_id = event.supplier_id
            line.ordered = quantity
            line.expected_date = expected
            session.add(line)


async def record_rating(*, uow: Work, event: SupplierRated) -> None:
    """Keep the supplier's latest measured punctuality (a later record replaces it)."""
    if len(event.supplier_id) > SUPPLIER_ID_LENGTH:
        raise PermanentError(f"supplier id longer than {SUPPLIER_ID_LENGTH}")
    rate = event.on_time_rate
    if rate is not None and not 0 <= rate <= 1:
        raise PermanentError(f"supplier {event.supplier_id}: on-time rate {rate} is not a share")
    rating = await uow.session.get(SupplierRating, event.supplier_id)
    if rating is None:
        rating = SupplierRating(supplier_id=event.supplier_id, orders_measured=0)
    rating.orders_measured, rating.on_time_rate = event.orders_measured, event.on_time_rate
    uow.session.add(rating)


async def record_delayed(*, uow: Work, event: PurchaseOrderDelayed) -> None:
    """Move the order's open lines to the new expected date, so availability shows when the
    stock now comes.

    Setting a date is idempotent, so a redelivery changes nothing; lines cancelled, closed or
    never confirmed here stay as they are. The date is the whole order's: every open line
    moves, not only those the event lists as outstanding (a line fully received adds nothing
    on order, whatever its date).
    """
    expected = event.expected_at.date()
    lines = await repository.purchase_order_lines(uow.session, event.purchase_order_id)
    for line in lines.values():
        if line.is_open and line.expected_date != expected:
            line.expected_date = expected
            uow.session.add(line)


async def receive(*, uow: Work, event: PurchaseOrderReceived, cause: Envelope) -> None:
    """Book the receipt's lines not booked yet as sellable stock, in their lots, and take them
    off order.

    A receipt that cannot be booked whole (an unknown SKU or location, a lot known to expire on
    another day, an expiry without a lot) is dead-lettered with the reason, and none of its
    lines is booked: the message's changes roll back together."""
    session = uow.session
    po_id, receipt_id = event.purchase_order_id, event.receipt_id
    _check_id(po_id)
    if len(receipt_id) > RECEIPT_ID_LENGTH:
        raise PermanentError(f"receipt id longer than {RECEIPT_ID_LENGTH}")
    what = f"purchase order {po_id} receipt {receipt_id}"
    skus = [line.sku for line in event.lines]
    if len(set(skus)) != len(skus):
        raise PermanentError(f"{what} names a sku twice")
    booked = await repository.booked_receipt_skus(session, receipt_id)
    lines = [line for line in event.lines if line.sku not in booked]
    if not lines:
        return  # every line is in stock already: a redelivery
    for line in lines:
        item = await repository.get_item(session, line.sku)
        if item is not None and item.currency != line.unit_cost.currency:
            raise PermanentError(
                f"{what}: {line.sku} costs {line.unit_cost.currency}, "
                f"the item is valued in {item.currency}"
            )
    try:
        receipts = [
            ReceiptCreate(
                sku=line.sku,
                location_id=event.location_id,
                quantity=line.quantity,
                unit_cost=line.unit_cost.amount,
                reference=f"PO {po_id} receipt {receipt_id}",
                lot=line.lot,
                expires_on=line.expires_on,
            )
            for line in lines
        ]
        movements = await service.book_receipts(
            uow=uow, receipts=receipts, purchase_order_id=po_id, cause=cause
        )
    except (DomainError, ValidationError) as error:
        raise PermanentError(f"{what}: {error}") from error
    repository.add_receipt_lines(
        session,
        [
            PurchaseReceiptLine(
                receipt_id=receipt_id,
                sku=movement.sku,
                purchase_order_id=po_id,
                movement_id=movement.movement_id,
                quantity=movement.quantity,
            )
            for movement in movements
        ],
    )
    on_order = await repository.purchase_order_lines(session, po_id)
    for line in lines:
        open_line = on_order.get(line.sku)
        if open_line is not None:
            open_line.received += line.quantity
            session.add(open_line)
    if event.complete:  # filled within tolerance: what a line is short of is not coming
        for open_line in on_order.values():
            if open_line.is_open:
                open_line.is_open = False
                session.add(open_line)


async def clear_on_order(*, uow: Work, event: PurchaseOrderCancelled | PurchaseOrderClosed) -> None:
    """Nothing more will come: the order's lines leave on-order stock."""
    lines = await repository.purchase_order_lines(uow.session, event.purchase_order_id)
    for line in lines.values():
        if line.is_open:
            line.is_open = False
            uow.session.add(line)


def _check_id(po_id: str) -> None:
    if len(po_id) > PURCHASE_ORDER_ID_LENGTH:
        # Refused here, not by the database when the batch commits, so it fails alone.
        raise PermanentError(f"purchase order id longer than {PURCHASE_ORDER_ID_LENGTH}")
