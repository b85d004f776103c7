"""Helpers for integration tests: real service processes, the people who call them, polling,
stock and orders made the one shared way, the order-to-cash `Stack`, and raw Kafka access."""

from tests.integration.support import people
from tests.integration.support.broker import find_record, produce, produce_many
from tests.integration.support.cli import keel
from tests.integration.support.orders import order_body
from tests.integration.support.people import Person
from tests.integration.support.polling import eventually
from tests.integration.support.services import (
    Endpoint,
    ServiceHttp,
    ServiceProcess,
    StartService,
    free_port,
    journal_entries,
)
from tests.integration.support.stack import Stack
from tests.integration.support.stocking import (
    UNIT_COST,
    new_sku,
    receive,
    register_item,
    register_location,
    stock,
)

__all__ = [
    "UNIT_COST",
    "Endpoint",
    "Person",
    "ServiceHttp",
    "ServiceProcess",
    "Stack",
    "StartService",
    "eventually",
    "find_record",
    "free_port",
    "journal_entries",
    "keel",
    "new_sku",
    "order_body",
    "people",
    "produce",
    "produce_many",
    "receive",
    "register_item",
    "register_location",
    "stock",
]
