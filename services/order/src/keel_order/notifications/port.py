"""The notification port: how a message reaches a customer (email, SMS, the channel's own
messaging). Real senders plug in here; the built-in one sends nothing and only logs, so the
suite runs offline, and the record the order service keeps of each message is the same either
way."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One message to one customer."""

    notification_id: int
    order_id: str
    customer_id: str
    email: str | None  # the address the customer gave with their first order, if known
    kind: str
    message: str
    created_at: datetime


class CustomerNotifier(Protocol):
    async def send(self, messages: Sequence[Outgoing]) -> None:
        """Deliver the messages, or raise; a raise leaves them all to be sent again."""


class RecordingNotifier:
    """The built-in sender: nothing leaves the service; the order's record is the message."""

    async def send(self, messages: Sequence[Outgoing]) -> None:
        for message in messages:
            log.debug("customer %s told: %s", message.customer_id, message.message)
