"""Payments: the provider port, the built-in simulated provider, and the provider in use."""

from keel_finance.payments.provider import (
    Authorization,
    Outcome,
    PaymentProvider,
    ProviderRefused,
    ProviderSlot,
)
from keel_finance.payments.simulated import SimulatedProvider
from keel_finance.settings import Settings

__all__ = [
    "Authorization",
    "Outcome",
    "PaymentProvider",
    "ProviderRefused",
    "SimulatedProvider",
    "installed",
    "provider_for",
]

installed = ProviderSlot()


def provider_for(settings: Settings) -> PaymentProvider:
    """The provider the settings name (each real adapter adds its name to the setting's Literal)."""
    match settings.payment_provider:
        case "simulated":
            return SimulatedProvider()
