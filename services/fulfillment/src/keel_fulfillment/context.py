"""What fulfillment's routers and handlers work with (see `keel_kit.context`)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from keel_fulfillment.settings import Settings
from keel_kit.context import ServiceContext, UnitOfWork, service_context


@dataclass(frozen=True, kw_only=True)
class FulfillmentContext(ServiceContext):
    settings: Settings


FulfillmentDep = Annotated[FulfillmentContext, Depends(service_context)]
Work = UnitOfWork[FulfillmentContext]  # what fulfillment's use cases are given
