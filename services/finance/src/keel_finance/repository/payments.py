"""Payment and refund queries: a batch's loaded once, then answered from memory."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from keel_finance.domain import ZERO, NewPayment
from keel_finance.models import PAYMENT, Payment, Refund
from keel_kit import staged
from keel_kit.db import one_of
from keel_kit.tables import utcnow

# The payments this transaction knows of, by order id: those a batch loaded (None where the
# order has none yet) and those read back after it added them. Kept here because the session's
# identity map holds objects only weakly and cannot say "no such payment".
_KNOWN_PAYMENTS = "keel_finance.known_payments"


async def load_payments(session: AsyncSession, order_ids: set[str]) -> None:
    """Read and lock the payments of a batch's orders in one query; `get_payment` then answers
    from memory. Locked because refunds arrive keyed by return, so two returns of one order can
    be refunded by two replicas at once; in order id order, so they cannot deadlock. Read
    afresh: a rolled-back savepoint may have left the session's copies stale."""
    if not order_ids:
        return
    query = (
        select(Payment)
        .where(one_of(session, col(Payment.order_id), order_ids))
        .order_by(col(Payment.order_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:
        found = {payment.order_id: payment for payment in (await session.exec(query)).all()}
    known: dict[str, Payment | None] = session.info.setdefault(_KNOWN_PAYMENTS, {})
    for order_id in order_ids:
        known[order_id] = found.get(order_id)


async def get_payment(session: AsyncSession, order_id: str) -> Payment | None:
    """The order's payment, looked up without flushing the transaction first.

    The kit calls a handler per message inside one transaction per batch; letting each lookup
    autoflush would turn the batch's bulk inserts into round trips per message. The one write
    it makes is for a payment this transaction added (`add_payment`) and now wants as an
    object, to capture or void it, say, or to answer a repeated authorization: what is staged
    is written first, so the payment is read back as any other.
    """
    known: dict[str, Payment | None] = session.info.setdefault(_KNOWN_PAYMENTS, {})
    if order_id in known:
        return known[order_id]
    if staged.pending(session, (PAYMENT.name, order_id)):
        await staged.write(session)
        known[order_id] = await session.get(Payment, order_id)
        return known[order_id]
    with session.no_autoflush:
        return await session.get(Payment, order_id)


def add_payment(session: AsyncSession, payment: NewPayment) -> None:
    """Stage a payment just decided for the unit of work's bulk insert.

    As a row, not an ORM object: the transaction that decides a payment almost never touches it
    again, and a batch's payments then cost one statement. Its primary key still refuses a
    second payment for one order, when the rows are written.
    """
    now = utcnow()
    staged.stage(
        session,
        PAYMENT,
        {
            "order_id": payment.order_id,
            "authorization_id": payment.authorization_id,
            "status": payment.status.value,
            "method": payment.method,
            "amount": payment.amount,
            "currency": payment.currency,
            "captured_amount": ZERO,
            "refunded_amount": ZERO,
            "reason": payment.reason,
            "created_at": now,
            "updated_at": now,
        },
        of=(PAYMENT.name, payment.order_id),
    )
    # Known from now on as added, no longer as what the batch loaded (no payment).
    session.info.setdefault(_KNOWN_PAYMENTS, {}).pop(payment.order_id, None)


# The refunds this transaction knows of, by refund id, as for payments above.
_KNOWN_REFUNDS = "keel_finance.known_refunds"


async def load_refunds(session: AsyncSession, refund_ids: set[str]) -> None:
    """Read a batch's refunds in one query; `get_refund` then answers from memory."""
    if not refund_ids:
        return
    query = (
        select(Refund)
        .where(col(Refund.refund_id).in_(refund_ids))
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:
        found = {refund.refund_id: refund for refund in (await session.exec(query)).all()}
    known: dict[str, Refund | None] = session.info.setdefault(_KNOWN_REFUNDS, {})
    for refund_id in refund_ids:
        known[refund_id] = found.get(refund_id)


async def get_refund(session: AsyncSession, refund_id: str) -> Refund | None:
    """The refund of this id, if finance carried it out; no flush first (see `get_payment`)."""
    known: dict[str, Refund | None] = session.info.get(_KNOWN_REFUNDS, {})
    if refund_id in known:
        return known[refund_id]
    with session.no_autoflush:
        return await session.get(Refund, refund_id)


def add_refund(session: AsyncSession, refund: Refund) -> None:
    session.add(refund)
    session.info.setdefault(_KNOWN_REFUNDS, {})[refund.refund_id] = refund
