from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from keel_contracts import ServiceName
from keel_kit.settings import ServiceSettings
from keel_returns.domain import ShippingRefund


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KEEL_RETURNS_", populate_by_name=True)

    service: ClassVar[ServiceName] = "returns"
    port: int = 8105
    default_window_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="return window of a channel without its own policy, in days from delivery",
    )
    refund_approval_threshold: Decimal = Field(
        default=Decimal("500.00"),
        ge=0,
        description=(
            "a refund waits for approval by a finance approver once the order's refunds, "
            "this one included, come to more than this amount"
        ),
    )
    refund_shipping: ShippingRefund = Field(
        default=ShippingRefund.WHOLE_ORDER,
        description="when the order's shipping charge is refunded: never, whole_order, always",
    )
