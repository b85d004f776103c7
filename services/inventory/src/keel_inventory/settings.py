from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from keel_contracts import ServiceName
from keel_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KEEL_INVENTORY_", populate_by_name=True)

    service: ClassVar[ServiceName] = "inventory"
    port: int = 8102
