"""Procurement's events on procurement.purchase_order.v1: the purchase-order lifecycle, keyed by
purchase order."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import StringConstraints

from keel_contracts.envelope import Message
from keel_contracts.values import Line, Money, Quantity, Sku
from keel_contracts.wire import WireModel

# A lot (batch) code, bounded as inventory keeps it.
LotCode = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]


class PurchaseOrderConfirmed(Message):
    type = "purchase_order.confirmed"
    purchase_order_id: str
    supplier_id: str
    location_id: str
    lines: tuple[Line, ...]
    expected_at: datetime


class PurchaseOrderLine(WireModel):
    """A SKU, a quantity and what one unit costs from the supplier."""

    sku: Sku
    quantity: Quantity
    unit_cost: Money


class ReceivedLine(PurchaseOrderLine):
    """A line of goods that arrived: `lot` names the lot its units belong to when the warehouse
    recorded one, and `expires_on` when that lot expires (only with a lot). A receipt carries at
    most one lot of a SKU. Both are absent from messages sent before lots were kept."""

    lot: LotCode | None = None
    expires_on: date | None = None


class PurchaseOrderDrafted(Message):
    type = "purchase_order.drafted"
    purchase_order_id: str
    supplier_id: str
    location_id: str
    lines: tuple[PurchaseOrderLine, ...]
    total: Money


class PurchaseOrderApproved(Message):
    """Approved by everyone its amount requires (two different people above the threshold)."""

    type = "purchase_order.approved"
    purchase_order_id: str
    supplier_id: str
    approvers: tuple[str, ...]
    total: Money


class PurchaseOrderSent(Message):
    type = "purchase_order.sent"
    purchase_order_id: str
    supplier_id: str
    location_id: str
    sent_at: datetime


class PurchaseOrderReceived(Message):
    """Goods arrived against a purchase order at its location, at the ordered unit costs.

    Inventory books the lines as a sellable receipt, in their lots when they name one
    (`receipt_id` is the dedupe key of the booking); `complete` is true once every line is
    filled (its ordered quantity, less procurement's under-receipt tolerance): nothing more is
    expected on the order.
    """

    type = "purchase_order.received"
    purchase_order_id: str
    receipt_id: str
    supplier_id: str
    location_id: str
    lines: tuple[ReceivedLine, ...]
    received_at: datetime
    complete: bool


class PurchaseOrderCancelled(Message):
    type = "purchase_order.cancelled"
    purchase_order_id: str
    supplier_id: str
    location_id: str
    reason: str


class PurchaseOrderDelayed(Message):
    """The supplier moved a confirmed purchase order's expected date later.

    `lines` are the units still outstanding (ordered less received). Inventory moves its on-order
    date; the order service raises a supplier_delay exception on the backordered orders waiting
    for these SKUs.
    """

    type = "purchase_order.delayed"
    purchase_order_id: str
    supplier_id: str
    location_id: str
    lines: tuple[Line, ...]
    previous_expected_at: datetime
    expected_at: datetime


class PurchaseOrderClosed(Message):
    """No more goods are expected; `short_lines` are the units ordered but never received."""

    type = "purchase_order.closed"
    purchase_order_id: str
    supplier_id: str
    location_id: str
    short_lines: tuple[Line, ...]


# --- procurement.supplier.v1: compacted, each supplier's latest measured record ---


class SupplierRated(Message):
    """A supplier's measured delivery record, sent each time one of its orders' first goods
    arrive (the measure moves then): over `orders_measured` orders, `on_time_rate` is the share
    whose first goods came by the date the supplier first promised (null before any), and
    `measured_lead_time_days` the mean days from sending to the first goods."""

    type = "supplier.rated"
    supplier_id: str
    orders_measured: int
    on_time_rate: Decimal | None
    measured_lead_time_days: Decimal | None = None
