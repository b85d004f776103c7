"""The payment-provider port: what finance needs from whoever moves the money.

Real adapters (a card processor, a wallet) implement `PaymentProvider`; `SimulatedProvider` is the
built-in one, and the `payment_provider` setting chooses.

Every method must be idempotent. The kit applies a batch of messages in one transaction and redoes
the whole batch when one message in it fails or the database blips, but it cannot take back a call
to a provider: the same call may come again and must give the same answer without moving more
money. Real adapters get that from the provider's idempotency keys (the order id for authorize,
the authorization id for capture, void and review approval, the refund id for a refund).

A provider that says no raises `ProviderRefused` (the request can never succeed as it is); one
that cannot be reached raises keel_kit's TransientError, ConnectionError or TimeoutError, so the
kit retries with backoff instead of dead-lettering.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from keel_contracts.values import Money


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    REVIEW = "review"  # neither yet: the provider wants a (manual or fraud) review first


@dataclass(frozen=True)
class Authorization:
    """A provider's answer to an authorization request.

    Approved and review answers name the authorization, so it can later be captured or voided;
    a decline may have no id, because nothing is held.
    """

    outcome: Outcome
    authorization_id: str | None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.outcome != Outcome.DECLINED and not self.authorization_id:
            raise ValueError(f"an authorization answered {self.outcome} needs an id")


class ProviderRefused(Exception):
    """The provider refused a capture, a void or a refund; asking again changes nothing."""


class PaymentProvider(Protocol):
    async def authorize(
        self, *, order_id: str, amount: Money, method: str, token: str
    ) -> Authorization: ...

    async def capture(self, *, authorization_id: str, amount: Money) -> None: ...

    async def void(self, *, authorization_id: str) -> None: ...

    async def approve_review(self, *, authorization_id: str) -> None:
        """Authorize what the provider held for review (a person approved it). Rejecting a
        review is a `void`."""
        ...

    async def refund(self, *, authorization_id: str, refund_id: str, amount: Money) -> None:
        """Pay `amount` of a captured authorization back to the customer; `refund_id` is the
        idempotency key, so the same refund asked again moves no more money. Several refunds
        of one authorization may together return at most what was captured."""
        ...
