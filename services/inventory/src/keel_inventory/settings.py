from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from keel_contracts import ServiceName
from keel_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KEEL_INVENTORY_", populate_by_name=True)

    service: ClassVar[ServiceName] = "inventory"
    port: int = 8102
    reservation_ttl_seconds: float = Field(
        default=1800, gt=0, description="how long a reservation holds stock unless released"
    )
    reservation_expiry_every_seconds: float = Field(
        default=5.0, gt=0, description="how often held reservations past expiry are released"
    )
    reservation_expiry_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="most reservations expired per run"
    )
    oversell_check_every_seconds: float = Field(
        default=300,
        gt=0,
        description="how often the oversold units are counted and the count kept (the "
        "leadership chart's oversell rate)",
    )
    availability_feed_every_seconds: float = Field(
        default=1.0,
        gt=0,
        description="how often what changed is published on inventory.availability.v1 (the "
        "debounce: a SKU that changes many times in between is published once)",
    )
    availability_feed_batch_size: int = Field(
        default=1000, ge=1, le=10_000, description="most SKUs published per run"
    )
    adjustment_tolerance_percent: Decimal = Field(
        default=Decimal(2),
        ge=0,
        le=100,
        description="the largest variance, as a share of the units expected, that a count or "
        "adjustment posts without approval (it must also stay below the value threshold)",
    )
    adjustment_value_threshold: Decimal = Field(
        default=Decimal(500),
        ge=0,
        description="the value (units x the item's cost, in its currency) from which an "
        "adjustment waits for approval however small its share",
    )
    exception_due_hours: float = Field(
        default=24, gt=0, description="how long a person has to resolve an inventory exception"
    )
