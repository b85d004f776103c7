"""What the returns service's routers and handlers work with (see `keel_kit.context`).

Its rules (the default return window, the refund approval threshold, when shipping is refunded)
are its settings, read by the use cases as `uow.service.settings`."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from keel_kit.context import ServiceContext, UnitOfWork, service_context
from keel_returns.settings import Settings


@dataclass(frozen=True, kw_only=True)
class ReturnsContext(ServiceContext):
    settings: Settings


ReturnsDep = Annotated[ReturnsContext, Depends(service_context)]
Work = UnitOfWork[ReturnsContext]  # what the returns use cases are given
