"""HTTP models of what the customer was told."""

from pydantic import BaseModel

from keel_contracts.times import UtcDatetime


class NotificationPublic(BaseModel):
    """One message to the customer: `sent_at` null while it waits for the sender."""

    notification_id: int
    kind: str
    message: str
    created_at: UtcDatetime
    sent_at: UtcDatetime | None


class NotificationsPublic(BaseModel):
    order_id: str
    customer_id: str
    items: list[NotificationPublic]
