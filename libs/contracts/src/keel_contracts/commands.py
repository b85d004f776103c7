"""Commands: requests one service sends to another's `<context>.commands.v1`, named imperatively."""

from keel_contracts.envelope import Message
from keel_contracts.values import Line, Money


class ReserveStock(Message):
    """Hold every line or nothing. With `backorder`, a request that cannot be covered now waits
    in the backorder queue instead of failing for good."""

    type = "stock.reserve"
    order_id: str
    channel: str
    lines: tuple[Line, ...]
    backorder: bool = False


class ReleaseStock(Message):
    """Give back whatever is held (or queued) for the order."""

    type = "stock.release"
    order_id: str
    reason: str


class AuthorizePayment(Message):
    type = "payment.authorize"
    order_id: str
    amount: Money
    method: str
    token: str


class CapturePayment(Message):
    """Take the money. `goods` and `shipping` split `amount` for revenue posting."""

    type = "payment.capture"
    order_id: str
    amount: Money
    goods: Money | None = None
    shipping: Money | None = None


class VoidPayment(Message):
    type = "payment.void"
    order_id: str
    reason: str
