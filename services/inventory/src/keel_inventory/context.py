"""What inventory's routers, handlers and jobs work with (see `keel_kit.context`)."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from keel_inventory.kpis import InventoryKpis
from keel_inventory.settings import Settings
from keel_kit.context import ServiceContext, UnitOfWork, service_context


@dataclass(frozen=True, kw_only=True)
class InventoryContext(ServiceContext):
    settings: Settings
    kpis: InventoryKpis = field(default_factory=InventoryKpis)

    @property
    def reservation_ttl(self) -> timedelta:
        """How long a reservation holds stock unless released (read from the settings, so a
        test changes it by building the app with other settings)."""
        return timedelta(seconds=self.settings.reservation_ttl_seconds)

    @property
    def expiry_batch_size(self) -> int:
        """The most reservations one run of the expiry job releases."""
        return self.settings.reservation_expiry_batch_size


InventoryDep = Annotated[InventoryContext, Depends(service_context)]
Work = UnitOfWork[InventoryContext]  # what inventory's use cases are given
