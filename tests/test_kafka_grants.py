"""The secured broker's ACLs, derived from the topic registry, fit what each service really does:
it may read every topic its handlers subscribe to, write only topics it owns or sends commands
to, and use only its own consumer group; its outbox refuses anything else before the broker."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any, cast

import pytest

from keel_contracts import SERVICES, TOPICS, ServiceName, consumer_group, dead_letter_topic
from keel_contracts.events import ItemRegistered
from keel_contracts.values import Money
from keel_kit.handlers import Handlers
from keel_kit.kafka_access import KafkaAccess
from keel_kit.kafka_grants import grants
from keel_kit.outbox import Outbox

pytestmark = pytest.mark.unit


def granted(service: ServiceName, operation: str, resource: str = "topic") -> set[str]:
    return {g.name for g in grants(service) if g.operation == operation and g.resource == resource}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_may_read_every_topic_its_handlers_consume(service: ServiceName) -> None:
    module = importlib.import_module(f"keel_{service}.handlers")
    handlers = cast(Handlers, module.handlers)
    assert set(handlers.topics()) <= granted(service, "read")


@pytest.mark.parametrize("service", SERVICES)
def test_the_registry_names_as_readers_exactly_the_services_that_read(
    service: ServiceName,
) -> None:
    # The suite's AsyncAPI document and the README say who reads a topic from the registry.
    module = importlib.import_module(f"keel_{service}.handlers")
    handlers = cast(Handlers, module.handlers)
    assert set(handlers.topics()) == {t.name for t in TOPICS if service in t.consumers}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_writes_only_its_own_topics_and_those_it_sends_commands_to(
    service: ServiceName,
) -> None:
    expected = {t.name for t in TOPICS if t.owner == service or service in t.senders}
    assert granted(service, "write") == expected | {dead_letter_topic(consumer_group(service))}
    # An event topic has one writer: its owner.
    for topic in TOPICS:
        if topic.name in granted(service, "write") and not topic.senders:
            assert topic.owner == service


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_uses_only_its_own_consumer_group(service: ServiceName) -> None:
    assert granted(service, "read", "group") == {consumer_group(service)}
    assert {g.principal for g in grants(service)} == {f"User:{service}"}


def test_an_outbox_refuses_a_message_its_service_may_not_write() -> None:
    cost = Money(amount=Decimal("2.00"), currency="USD")
    item = ItemRegistered(sku="MUG-1", name="Mug", unit_cost=cost)
    # Refused before the session is touched, so none is needed.
    session: Any = None
    with pytest.raises(PermissionError, match=r"order may not write inventory\.item\.v1"):
        Outbox("order").add(session, item, key="MUG-1")


def test_a_kafka_login_needs_both_halves_and_reaches_every_client() -> None:
    with pytest.raises(ValueError, match="both a username and a password"):
        KafkaAccess("127.0.0.1:9092", username="order")
    assert KafkaAccess("127.0.0.1:9092").client_options() == {"bootstrap_servers": "127.0.0.1:9092"}
    assert KafkaAccess("127.0.0.1:9092").faststream_security() is None
    login = KafkaAccess("127.0.0.1:9092", username="order", password="s3cret")
    assert login.client_options()["sasl_mechanism"] == "SCRAM-SHA-512"
    assert login.client_options()["security_protocol"] == "SASL_PLAINTEXT"
    assert login.librdkafka_config()["sasl.username"] == "order"
    assert "s3cret" not in repr(login)
