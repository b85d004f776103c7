"""Events: facts a service announces on its own topics, named in the past tense."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from keel_contracts.envelope import Message
from keel_contracts.values import Amount, Currency, Line, Money, Quantity, Sku

LocationKind = Literal["warehouse", "store", "3pl", "in_transit"]

# --- inventory.item.v1: the item master, owned by inventory, replicated by everyone else ---


class ItemRegistered(Message):
    type = "item.registered"
    sku: Sku
    name: str
    unit_cost: Money


class LocationRegistered(Message):
    type = "location.registered"
    location_id: str
    name: str
    kind: LocationKind
    country: str
    postal_code: str


# --- inventory.stock.v1: movements of the stock ledger ---


class StockReceived(Message):
    """Units booked into sellable stock at their unit cost.

    `purchase_order_id` is set when the goods arrived against a purchase order (finance then
    credits goods received not invoiced); it is None for opening stock and manual receipts.
    """

    type = "stock.received"
    movement_id: str
    sku: Sku
    location_id: str
    quantity: Quantity
    unit_cost: Money
    reference: str
    purchase_order_id: str | None = None


# --- inventory.reservation.v1: answers to reservation commands, keyed by order ---


class Allocation(BaseModel):
    """Units of one SKU held for an order at one location."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    location_id: str
    sku: Sku
    quantity: Quantity


class StockReserved(Message):
    """Every line of the order is held; the allocations say where (one location if any holds
    everything, else split across locations)."""

    type = "stock.reserved"
    order_id: str
    reservation_id: str
    allocations: tuple[Allocation, ...]
    expires_at: datetime


class StockReservationFailed(Message):
    """Nothing was held. With `waiting`, the request joined the SKU's backorder queue and a
    `stock.reserved` follows when receipts cover it (oldest request first)."""

    type = "stock.reservation_failed"
    order_id: str
    short_lines: tuple[Line, ...]
    reason: str
    waiting: bool = False


class StockReleased(Message):
    type = "stock.released"
    order_id: str
    reservation_id: str
    reason: str


class StockIssued(Message):
    """Units left a location on a shipment: the reservation is consumed, stock goes down."""

    type = "stock.issued"
    order_id: str
    shipment_id: str
    location_id: str
    sku: Sku
    quantity: Quantity
    unit_cost: Money
    movement_id: str | None = None


# --- inventory.availability.v1: compacted, the latest available-to-sell per SKU ---


class AvailabilityChanged(Message):
    type = "availability.changed"
    sku: Sku
    available_to_sell: int


# --- orders.order.v1 ---


class OrderedLine(Line):
    """A line of an order as placed: what one unit sells for, when the producer says.

    `from_attributes` lets a producer written before `unit_price` keep passing plain `Line`s.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", from_attributes=True)

    unit_price: Money | None = None


class OrderPlaced(Message):
    """`total` is what the customer pays: goods plus `shipping` (when given) less discounts."""

    type = "order.placed"
    order_id: str
    channel: str
    customer_id: str
    lines: tuple[OrderedLine, ...]
    total: Money
    shipping: Money | None = None


class OrderConfirmed(Message):
    type = "order.confirmed"
    order_id: str
    lines: tuple[Line, ...]


class OrderCancelled(Message):
    type = "order.cancelled"
    order_id: str
    reason: str


class OrderRejected(Message):
    type = "order.rejected"
    order_id: str
    reason: str


class OrderReleased(Message):
    """Released to fulfillment: ship these allocations (one shipment per location)."""

    type = "order.released"
    order_id: str
    channel: str
    allocations: tuple[Allocation, ...]


# --- fulfillment.shipment.v1 ---


class ShipmentCreated(Message):
    type = "shipment.created"
    shipment_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]


class ShipmentShipped(Message):
    type = "shipment.shipped"
    shipment_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]
    carrier: str
    tracking_number: str


class ShipmentDelivered(Message):
    type = "shipment.delivered"
    shipment_id: str
    order_id: str


class ShipmentCancelled(Message):
    """An open shipment stopped before it left (its order was cancelled)."""

    type = "shipment.cancelled"
    shipment_id: str
    order_id: str
    location_id: str
    reason: str


# --- finance.payment.v1 ---


class PaymentAuthorized(Message):
    type = "payment.authorized"
    order_id: str
    authorization_id: str
    amount: Money


class PaymentDeclined(Message):
    type = "payment.declined"
    order_id: str
    reason: str


class PaymentHeld(Message):
    """The provider wants a review before it authorizes; the order waits on a payment hold."""

    type = "payment.held"
    order_id: str
    reason: str


class PaymentCaptured(Message):
    type = "payment.captured"
    order_id: str
    authorization_id: str
    amount: Money


class PaymentVoided(Message):
    type = "payment.voided"
    order_id: str
    authorization_id: str


# --- finance.journal.v1 ---


class JournalLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    account: str
    debit: Amount
    credit: Amount


class JournalEntryPosted(Message):
    type = "journal.entry_posted"
    entry_id: str
    source_id: str
    source_type: str
    currency: Currency
    lines: tuple[JournalLine, ...]


# --- procurement.purchase_order.v1 and returns.return.v1 (grown by later issues) ---


class PurchaseOrderConfirmed(Message):
    type = "purchase_order.confirmed"
    purchase_order_id: str
    supplier_id: str
    location_id: str
    lines: tuple[Line, ...]
    expected_at: datetime


class ReturnAuthorized(Message):
    type = "return.authorized"
    return_id: str
    order_id: str
    lines: tuple[Line, ...]


# returns.return.v1: receipt, inspection and refund of a return, keyed by return_id

Grade = Literal["A", "B", "C", "D"]
Disposition = Literal["restock", "refurbish", "damaged", "write_off"]


class ReturnReceived(Message):
    """Returned units arrived at a location; inventory holds them in pending_inspection."""

    type = "return.received"
    return_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]


class InspectedLine(BaseModel):
    """Units of one SKU given one grade, and where the grade sends them: restock (sellable),
    refurbish (a refurbishment location), damaged (damaged/quarantine) or write_off."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: Sku
    quantity: Quantity
    grade: Grade
    disposition: Disposition


class ReturnInspected(Message):
    """Every received unit is graded; inventory moves each line out of pending_inspection at
    `location_id` as its disposition says."""

    type = "return.inspected"
    return_id: str
    order_id: str
    location_id: str
    lines: tuple[InspectedLine, ...]


class RefundLine(BaseModel):
    """What comes back for units of one SKU and grade: `amount` is the units' price less the
    grade's restocking fee."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: Sku
    quantity: Quantity
    grade: Grade
    unit_price: Money
    restocking_fee: Money
    amount: Money


class RefundRequested(Message):
    """Refund `amount` to the customer for a return (approved by `approver` when it needed it).

    `amount` is authoritative: it is goods - restocking_fee + shipping, capped at what the order
    total leaves after earlier refunds; finance also caps it at what was captured.
    """

    type = "refund.requested"
    refund_id: str
    return_id: str
    order_id: str
    amount: Money
    goods: Money
    restocking_fee: Money
    shipping: Money
    lines: tuple[RefundLine, ...]
    approver: str | None = None


# --- procurement.purchase_order.v1: the purchase-order lifecycle, keyed by purchase order ---


class PurchaseOrderLine(BaseModel):
    """A SKU, a quantity and what one unit costs from the supplier."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: Sku
    quantity: Quantity
    unit_cost: Money


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

    Inventory books the lines as a sellable receipt (`receipt_id` is the dedupe key of the
    booking); `complete` is true once every line is filled (its ordered quantity, less
    procurement's under-receipt tolerance): nothing more is expected on the order.
    """

    type = "purchase_order.received"
    purchase_order_id: str
    receipt_id: str
    supplier_id: str
    location_id: str
    lines: tuple[PurchaseOrderLine, ...]
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


# --- finance.payment.v1: refunds (answering refund.requested) ---


class PaymentRefunded(Message):
    """Finance refunded `amount` to the customer for a return's refund request.

    `amount` may be less than requested: finance never refunds more than the order's captured
    payment less what it refunded before, and records the shortfall.
    """

    type = "payment.refunded"
    order_id: str
    refund_id: str
    return_id: str
    amount: Money


# --- inventory.stock.v1: returned stock (here, below the Disposition it uses) ---


class StockReturned(Message):
    """Returned units of one SKU moved at a location, one event per return line and step.

    On `return.received` the units enter `pending_inspection` (`disposition` is None); on
    `return.inspected` they leave it for `state`: `sellable` (restock), `quarantine`
    (refurbish), `damaged` (damaged), or `written_off` (write_off: they left stock). `unit_cost`
    is the item's cost as inventory knows it (informative: finance values stock at its own
    moving average); `movement_id` is the ledger movement that put the units in `state` (for a
    write-off, the one that took them out). Not a receipt: finance must not count it as
    `stock.received`.
    """

    type = "stock.returned"
    return_id: str
    order_id: str
    location_id: str
    sku: Sku
    quantity: Quantity
    state: str
    disposition: Disposition | None = None
    unit_cost: Money
    movement_id: str
