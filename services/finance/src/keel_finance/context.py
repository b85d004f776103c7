"""What finance's routers, handlers and use cases work with (see `keel_kit.context`)."""

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated

from fastapi import Depends

from keel_finance.inventory_client import InventoryClient
from keel_finance.kpis import FinanceKpis
from keel_finance.payments import PaymentProvider
from keel_finance.settings import Settings
from keel_kit.context import ServiceContext, UnitOfWork, service_context


@dataclass(frozen=True, kw_only=True)
class FinanceContext(ServiceContext):
    """Finance's context: who moves the money (`payments`), and inventory's HTTP API, which
    the inventory reconciliation asks for its stock (`inventory`)."""

    settings: Settings
    payments: PaymentProvider
    inventory: InventoryClient
    kpis: FinanceKpis = field(default_factory=FinanceKpis)

    @cached_property
    def auth_folder(self) -> Path:
        """Where the key that opens sealed card tokens lies (`keel_kit.sealing`): the settings'
        folder, worked out once instead of for every order's token."""
        return self.settings.auth_folder


FinanceDep = Annotated[FinanceContext, Depends(service_context)]
Work = UnitOfWork[FinanceContext]  # what finance's use cases are given
