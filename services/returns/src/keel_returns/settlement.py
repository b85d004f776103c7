"""A refund paid, as finance reports it: what can be recorded and what it leaves short. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from keel_contracts import money
from keel_returns.domain import RefundStatus


class SettlementRefused(ValueError):
    """Finance's word on a refund cannot be recorded as it stands: a person must look."""


@dataclass(frozen=True)
class Settlement:
    refunded: Decimal  # what finance paid
    shortfall: Decimal  # requested less paid: finance pays no more than it captured


def settle_refund(
    *,
    refund_id: str,
    status: str,
    requested: Decimal,
    currency: str,
    paid: Decimal,
    paid_currency: str,
) -> Settlement:
    """What finance paid on a requested refund and how short of the request it fell, or
    `SettlementRefused`: a refund never requested of finance (still waiting for approval), paid
    in another currency, or paid more than requested (or less than nothing) is not recorded."""
    if status == RefundStatus.PENDING_APPROVAL:
        raise SettlementRefused(
            f"refund {refund_id} is waiting for approval: finance was never asked to pay it"
        )
    if paid_currency != currency:
        raise SettlementRefused(
            f"refund {refund_id} was requested in {currency}, paid in {paid_currency}"
        )
    # What finance paid is what its journal posted: recorded as that journal line is rounded.
    amount = money.posting(paid, currency)
    if amount < 0 or amount > requested:
        raise SettlementRefused(
            f"refund {refund_id} paid {paid} {paid_currency}: not between 0 and the "
            f"{money.shown(requested, currency)} requested"
        )
    return Settlement(refunded=amount, shortfall=requested - amount)


def all_paid(statuses: Iterable[str]) -> bool:
    """Every refund of a return has been paid (a return without refunds has nothing to pay)."""
    listed = list(statuses)
    return bool(listed) and all(s == RefundStatus.REFUNDED for s in listed)
