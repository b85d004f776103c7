from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from keel_contracts import ServiceName
from keel_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KEEL_PROCUREMENT_", populate_by_name=True)

    service: ClassVar[ServiceName] = "procurement"
    port: int = 8104
    # A demand-history import may carry 500 series of a year of days each (about 8 MB of
    # JSON), far above the kit's 1 MiB default.
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    approval_threshold: Decimal = Field(
        default=Decimal("10000.00"),
        ge=0,
        description="a purchase order whose total is above this needs two different approvers",
    )
    over_receipt_tolerance: Decimal = Field(
        default=Decimal("0.05"),
        ge=0,
        le=1,
        description="share above the ordered quantity a line may be received (0.05 = 5% over)",
    )
    under_receipt_tolerance: Decimal = Field(
        default=Decimal("0.05"),
        ge=0,
        lt=1,
        description=(
            "share below the ordered quantity that still fills a line (0.05 = 95% received "
            "completes it: the order is received and the rest is no longer expected)"
        ),
    )
    demand_alpha: Decimal = Field(
        default=Decimal("0.3"),
        gt=0,
        le=1,
        description="EWMA smoothing of daily demand: the weight of the newest closed day",
    )
    review_days: int = Field(
        default=7,
        ge=0,
        le=365,
        description="days between reviews; order-up-to covers them beyond the lead time",
    )
    replenishment_every_seconds: float = Field(
        default=86_400.0,
        gt=0,
        description="how often the scheduled replenishment run drafts purchase orders",
    )
