"""What procurement's routers, handlers and jobs work with (see `keel_kit.context`): the kit's
ports, and the purchasing and planning rules the deployment set."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Self

from fastapi import Depends

from keel_kit.context import ServiceContext, UnitOfWork, service_context
from keel_procurement.settings import Settings


@dataclass(frozen=True)
class Rules:
    """The purchasing rules a deployment sets (see Settings)."""

    approval_threshold: Decimal
    over_receipt_tolerance: Decimal
    under_receipt_tolerance: Decimal = Decimal(0)

    @classmethod
    def of(cls, settings: Settings) -> Self:
        return cls(
            approval_threshold=settings.approval_threshold,
            over_receipt_tolerance=settings.over_receipt_tolerance,
            under_receipt_tolerance=settings.under_receipt_tolerance,
        )


@dataclass(frozen=True)
class Planning:
    """The replenishment settings a deployment chose (see Settings)."""

    alpha: Decimal
    review_days: int

    @classmethod
    def of(cls, settings: Settings) -> Self:
        return cls(alpha=settings.demand_alpha, review_days=settings.review_days)


@dataclass(frozen=True, kw_only=True)
class ProcurementContext(ServiceContext):
    settings: Settings
    rules: Rules
    planning: Planning


ProcurementDep = Annotated[ProcurementContext, Depends(service_context)]
Work = UnitOfWork[ProcurementContext]  # what procurement's use cases are given
