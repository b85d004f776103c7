from typing import ClassVar, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from keel_contracts import ServiceName
from keel_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KEEL_FINANCE_", populate_by_name=True)

    service: ClassVar[ServiceName] = "finance"
    port: int = 8106
    payment_provider: Literal["simulated"] = Field(
        default="simulated",
        description="who authorizes and captures payments; real adapters join the simulator here",
    )
    inventory_url: str = Field(
        default="http://127.0.0.1:8102",
        description="inventory's HTTP API, asked for its stock by the inventory reconciliation",
    )
