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
    """Deprecated, on `finance.commands.v1`: it carries the card token in plaintext. Nothing
    sends it any more; finance still reads what is left of it on the topic."""

    type = "payment.authorize"
    order_id: str
    amount: Money
    method: str
    token: str


class AuthorizeSealedPayment(Message):
    """Ask finance to authorize the order's payment, on `finance.commands.v2`. The card token
    travels sealed for finance alone (`keel_kit.sealing`): base64 of a libsodium sealed box,
    which no other reader of the topic, the broker's disks or a dead letter can open."""

    type = "payment.authorize_sealed"
    order_id: str
    amount: Money
    method: str
    sealed_token: str


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


class ResolvePaymentReview(Message):
    """A person's decision on a payment the provider held for review (payment.held).

    `approve` authorizes the held payment; otherwise it is declined and whatever the provider
    holds is released. Finance answers as it answers an authorization (payment.authorized or
    payment.declined); a repeated decision only repeats the answer.
    """

    type = "payment.resolve_review"
    order_id: str
    approve: bool
    note: str = ""
