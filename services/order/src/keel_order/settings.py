from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from keel_contracts import ServiceName
from keel_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KEEL_ORDER_", populate_by_name=True)

    service: ClassVar[ServiceName] = "order"
    port: int = 8101
    validation_timeout_seconds: float = Field(
        default=300.0, gt=0, description="an order still validating after this goes on hold"
    )
