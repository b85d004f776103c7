"""The customer hears of their order: confirmed, backordered, shipped (in part or whole),
delayed by a supplier, cancelled, rejected, refunded.

Each message is recorded in the transaction of the change it tells of (staged with the order's
history), so a rolled-back change tells nobody and a committed one is never forgotten. A
periodic job hands the unsent ones to the notification port (`port.CustomerNotifier`) and marks
them sent; a sender that fails leaves them for the next run. Customer service reads the record:
what the customer was told and when.
"""

from __future__ import annotations

from keel_contracts.events import PaymentRefunded
from keel_contracts.money import shown_money
from keel_kit import staged
from keel_order import repository
from keel_order.context import Work
from keel_order.domain import Status
from keel_order.models import CustomerNotification, Order, core_table
from keel_order.notifications import port
from keel_order.notifications import repository as notifications
from keel_order.notifications.schemas import NotificationPublic, NotificationsPublic

# Statuses the customer hears of, and what they are told.
TOLD = {
    Status.CONFIRMED: ("confirmed", "Your order {ref} is confirmed."),
    Status.BACKORDERED: (
        "backordered",
        "Part of your order {ref} is waiting for stock; we will write again when it ships.",
    ),
    Status.PARTIALLY_SHIPPED: ("shipped", "Part of your order {ref} has shipped."),
    Status.SHIPPED: ("shipped", "Your order {ref} has shipped."),
    Status.CANCELLED: ("cancelled", "Your order {ref} is cancelled."),
    Status.REJECTED: ("rejected", "We could not take your order {ref}."),
}
SEND_BATCH = 500


# A backordered order whose stock is on order is told when to expect it.
PROMISED = (
    "Part of your order {ref} is waiting for stock, expected by {date}; we will write again "
    "when it ships."
)


def on_status(uow: Work, order: Order, status: Status) -> None:
    """Tell the customer of the order's new status, if it is one they hear of."""
    if status in TOLD:
        kind, text = TOLD[status]
        if status == Status.BACKORDERED and order.promised_date is not None:
            text = PROMISED.replace("{date}", order.promised_date.isoformat())
        record(uow, order, kind, text.format(ref=order.external_id))


def record(uow: Work, order: Order, kind: str, message: str) -> None:
    row = {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "kind": kind,
        "message": message,
        "created_at": uow.service.clock(),
    }
    staged.stage(uow.session, core_table(CustomerNotification), row)


def on_delay(uow: Work, order: Order, expected_at: str) -> None:
    ref = order.external_id
    message = f"Your order {ref} is delayed: our supplier now expects it by {expected_at}."
    record(uow, order, "delayed", message)


async def on_refunded(*, uow: Work, event: PaymentRefunded) -> None:
    order = await repository.get_order(uow.session, event.order_id)
    if order is None:
        return  # not an order of ours to tell anyone about
    amount = shown_money(event.amount.amount, event.amount.currency)
    message = f"We refunded {amount.amount} {amount.currency} for your order {order.external_id}."
    record(uow, order, "refunded", message)


async def send_unsent(work: Work) -> None:
    """Hand the messages not yet sent to the port, oldest first, and mark them sent (a
    periodic job). At least once: were the marks lost after the port took the messages (the
    database gone before the commit), the next run would hand them over again."""
    unsent = await notifications.unsent(work.session, limit=SEND_BATCH)
    if not unsent:
        return
    emails = await notifications.customer_emails(work.session, {n.customer_id for n in unsent})
    await work.service.notifier.send(
        [
            port.Outgoing(
                notification_id=n.id,
                order_id=n.order_id,
                customer_id=n.customer_id,
                email=emails.get(n.customer_id),
                kind=n.kind,
                message=n.message,
                created_at=n.created_at,
            )
            for n in unsent
        ]
    )
    await notifications.mark_sent(work.session, [n.id for n in unsent], work.service.clock())


async def told(*, uow: Work, order_id: str) -> NotificationsPublic | None:
    order = await repository.get_order(uow.session, order_id)
    if order is None:
        return None
    rows = await notifications.of_order(uow.session, order_id)
    return NotificationsPublic(
        order_id=order_id,
        customer_id=order.customer_id,
        items=[
            NotificationPublic(
                notification_id=r.id or 0,
                kind=r.kind,
                message=r.message,
                created_at=r.created_at,
                sent_at=r.sent_at,
            )
            for r in rows
        ],
    )
