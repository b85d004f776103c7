"""Adjustment rules without I/O: why stock may be adjusted, and what posts without approval."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class AdjustmentStatus(StrEnum):
    APPLIED = "applied"
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"


class ReasonCode(StrEnum):
    """Why stock changed: a count's variance, a person's finding, or transit units written off
    when a transfer's discrepancy is accepted."""

    COUNT_VARIANCE = "count_variance"
    DAMAGE = "damage"
    LOSS = "loss"
    FOUND = "found"
    TRANSIT_LOSS = "transit_loss"


# The reasons a person gives for an adjustment of their own (the others come from a process).
MANUAL_REASONS = (ReasonCode.DAMAGE, ReasonCode.LOSS, ReasonCode.FOUND)


@dataclass(frozen=True, slots=True)
class Tolerance:
    """A variance posts without approval when it is at most `percent` of the units expected
    and its value is below `value` (in the item's currency); no variance always does."""

    percent: Decimal
    value: Decimal

    def allows(self, variance: int, *, expected: int, unit_cost: Decimal) -> bool:
        units = abs(variance)
        return units == 0 or (
            units * 100 <= self.percent * expected and units * unit_cost < self.value
        )
