"""The built-in payment provider: deterministic, offline and instant (it never sleeps).

The token decides: `tok_visa` approves, `tok_declined` declines, `tok_review` asks for a review,
and any other token declines. Authorization ids are derived from the order id, so asking twice
gets the same id.

It remembers the authorizations it granted (the most recent `memory` of them, in this process) to
refuse what a real provider refuses: a capture above the authorized amount or in another
currency, a second capture of another amount, capturing an authorization under review or voided,
voiding a captured one, approving the review of a voided or captured one, refunding what was not
captured, refunding in another currency, or refunds that together exceed the capture (the same
refund id again with the same amount is the same refund, and moves nothing more). Unlike a real
provider's, that memory dies with the process, so an id of its own it no longer remembers is
trusted; finance has already checked the request against its own payment record by then.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from keel_contracts.values import Money
from keel_finance.payments.provider import Authorization, Outcome, ProviderRefused

# Public test tokens, like a card processor's sandbox cards; nothing secret.
APPROVE_TOKEN = "tok_visa"  # noqa: S105
DECLINE_TOKEN = "tok_declined"  # noqa: S105
REVIEW_TOKEN = "tok_review"  # noqa: S105
UNRECOGNISED_REASON = (
    "token not recognised by the simulated provider (use tok_visa, tok_declined or tok_review)"
)
ID_PREFIX = "sim_auth_"


def authorization_id_for(order_id: str) -> str:
    """A fixed-length id that only the order decides (order ids may be long or odd)."""
    return ID_PREFIX + hashlib.sha256(order_id.encode()).hexdigest()[:24]


@dataclass
class _Grant:
    authorized: Money
    state: Literal["approved", "review", "captured", "voided"]
    captured: Money | None = None
    refunds: dict[str, Money] = field(default_factory=dict)  # by refund id


class SimulatedProvider:
    def __init__(self, *, memory: int = 100_000) -> None:
        self._memory = memory
        self._grants: dict[str, _Grant] = {}  # insertion order = age, for forgetting the oldest

    async def authorize(
        self, *, order_id: str, amount: Money, method: str, token: str
    ) -> Authorization:
        if token == DECLINE_TOKEN:
            return Authorization(Outcome.DECLINED, None, "card declined")
        if token not in (APPROVE_TOKEN, REVIEW_TOKEN):
            return Authorization(Outcome.DECLINED, None, UNRECOGNISED_REASON)
        authorization_id = authorization_id_for(order_id)
        if authorization_id not in self._grants:  # asked again: the first grant stands
            state: Literal["approved", "review"] = (
                "approved" if token == APPROVE_TOKEN else "review"
            )
            self._remember(authorization_id, _Grant(amount, state))
        if token == REVIEW_TOKEN:
            return Authorization(
                Outcome.REVIEW, authorization_id, "the provider asked for a manual review"
            )
        return Authorization(Outcome.APPROVED, authorization_id)

    async def capture(self, *, authorization_id: str, amount: Money) -> None:
        grant = self._grant(authorization_id)
        if grant is None:
            return
        if grant.state == "captured":
            if grant.captured == amount:
                return  # the same capture again: nothing more moves
            raise ProviderRefused(f"authorization {authorization_id} is already captured")
        if grant.state != "approved":
            raise ProviderRefused(f"authorization {authorization_id} is {grant.state}")
        if amount.currency != grant.authorized.currency:
            raise ProviderRefused(
                f"capture in {amount.currency} of an authorization in {grant.authorized.currency}"
            )
        if amount.amount > grant.authorized.amount:
            raise ProviderRefused(
                f"capture of {amount.amount} exceeds the authorized {grant.authorized.amount}"
            )
        grant.state = "captured"
        grant.captured = amount

    async def void(self, *, authorization_id: str) -> None:
        grant = self._grant(authorization_id)
        if grant is None:
            return
        if grant.state == "captured":
            raise ProviderRefused(f"authorization {authorization_id} is captured; refund it")
        grant.state = "voided"  # voiding twice is harmless

    async def approve_review(self, *, authorization_id: str) -> None:
        grant = self._grant(authorization_id)
        if grant is None or grant.state == "approved":
            return  # approving twice is harmless
        if grant.state != "review":
            raise ProviderRefused(f"authorization {authorization_id} is {grant.state}")
        grant.state = "approved"

    async def refund(self, *, authorization_id: str, refund_id: str, amount: Money) -> None:
        grant = self._grant(authorization_id)
        if grant is None:
            return
        earlier = grant.refunds.get(refund_id)
        if earlier is not None:
            if earlier == amount:
                return  # the same refund again: nothing more moves
            raise ProviderRefused(f"refund {refund_id} was already made for {earlier.amount}")
        if grant.state != "captured" or grant.captured is None:
            raise ProviderRefused(
                f"authorization {authorization_id} is {grant.state}, not captured"
            )
        if amount.currency != grant.captured.currency:
            raise ProviderRefused(
                f"refund in {amount.currency} of a capture in {grant.captured.currency}"
            )
        refunded = sum((r.amount for r in grant.refunds.values()), start=amount.amount)
        if refunded > grant.captured.amount:
            raise ProviderRefused(
                f"refunds of {refunded} would exceed the captured {grant.captured.amount}"
            )
        grant.refunds[refund_id] = amount

    def _grant(self, authorization_id: str) -> _Grant | None:
        """The remembered grant; None for one of ours that was forgotten (see module docstring)."""
        grant = self._grants.get(authorization_id)
        if grant is None and not authorization_id.startswith(ID_PREFIX):
            raise ProviderRefused(f"unknown authorization {authorization_id}")
        return grant

    def _remember(self, authorization_id: str, grant: _Grant) -> None:
        self._grants[authorization_id] = grant
        if len(self._grants) > self._memory:
            del self._grants[next(iter(self._grants))]
