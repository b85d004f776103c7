"""Payments: the provider port, the built-in simulated provider, and the one the settings choose.

The provider in use is a field of finance's context (`uow.service.payments`)."""

from keel_finance.payments.provider import (
    Authorization,
    Outcome,
    PaymentProvider,
    ProviderRefused,
)
from keel_finance.payments.simulated import SimulatedProvider
from keel_finance.settings import Settings

__all__ = [
    "Authorization",
    "Outcome",
    "PaymentProvider",
    "ProviderRefused",
    "SimulatedProvider",
    "provider_for",
]


def provider_for(settings: Settings) -> PaymentProvider:
    """The provider the settings name (each real adapter adds its name to the setting's Literal)."""
    match settings.payment_provider:
        case "simulated":
            return SimulatedProvider()
