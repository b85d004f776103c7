"""What order's routers, handlers and periodic jobs work with (see `keel_kit.context`)."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from keel_kit.context import ServiceContext, UnitOfWork, service_context
from keel_order.domain import RULES, RuleSet
from keel_order.kpis import OrderKpis
from keel_order.notifications.port import CustomerNotifier, RecordingNotifier
from keel_order.settings import Settings


@dataclass(frozen=True, kw_only=True)
class OrderContext(ServiceContext):
    settings: Settings
    # An order still validating after this goes on hold (settings.validation_timeout_seconds).
    validation_timeout: timedelta
    rules: RuleSet = RULES  # the caps and fraud score every new order is judged by
    kpis: OrderKpis = field(default_factory=OrderKpis)
    # How messages reach customers; the built-in one only records (notifications.port).
    notifier: CustomerNotifier = field(default_factory=RecordingNotifier)


OrderDep = Annotated[OrderContext, Depends(service_context)]
Work = UnitOfWork[OrderContext]  # what order's use cases are given
