"""The returns service's events on returns.return.v1."""

from typing import Literal

from keel_contracts.envelope import Message
from keel_contracts.values import Line, Money, Quantity, Sku
from keel_contracts.wire import WireModel

# --- returns.return.v1 ---


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


class InspectedLine(WireModel):
    """Units of one SKU given one grade, and where the grade sends them: restock (sellable),
    refurbish (a refurbishment location), damaged (damaged/quarantine) or write_off."""

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


class RefundLine(WireModel):
    """What comes back for units of one SKU and grade: `amount` is the units' price less the
    grade's restocking fee."""

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
