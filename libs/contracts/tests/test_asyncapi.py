"""The AsyncAPI documents say what travels: every topic and dead-letter topic, each message as
the envelope around its payload with the headers producers set, and the registry's layout."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from keel_contracts import (
    SERVICES,
    TOPICS,
    Envelope,
    consumer_group,
    dead_letter_topic,
    event_types,
)
from keel_contracts.asyncapi import service_document, suite_document
from keel_contracts.events import OrderPlaced, ShipmentShipped

pytestmark = pytest.mark.unit

SUITE = suite_document()


def message_schema(document: dict[str, Any], wire_type: str, part: str) -> Any:
    """A validator for one part ("payload" or "headers") of the message named `wire_type`,
    resolving its references inside the document."""
    [message] = [m for m in document["components"]["messages"].values() if m["name"] == wire_type]
    return jsonschema_rs.validator_for(
        {**message[part], "components": {"schemas": document["components"]["schemas"]}}
    )


def placed_order() -> Envelope:
    order = OrderPlaced.model_validate(
        {
            "order_id": "ord-1",
            "channel": "web",
            "customer_id": "c-1",
            "lines": [
                {"sku": "SKU-1", "quantity": 2, "unit_price": {"amount": "9.50", "currency": "EUR"}}
            ],
            "total": {"amount": "19.00", "currency": "EUR"},
        }
    )
    return Envelope.wrap(order, source="order", correlation_id="ord-1")


def test_the_suite_has_every_topic_and_every_dead_letter_topic() -> None:
    dead_letters = {dead_letter_topic(consumer_group(service)) for service in SERVICES}

    assert set(SUITE["channels"]) == {spec.name for spec in TOPICS} | dead_letters


def test_each_channel_carries_the_registry_layout() -> None:
    for spec in TOPICS:
        binding = SUITE["channels"][spec.name]["bindings"]["kafka"]
        settings = binding["topicConfiguration"]

        assert binding["partitions"] == spec.partitions
        assert settings["cleanup.policy"] == ["compact" if spec.compacted else "delete"]
        if not spec.compacted:
            assert settings["retention.ms"] == spec.retention_ms
        assert spec.key in SUITE["channels"][spec.name]["description"]


def test_every_message_type_is_described_with_its_envelope_and_headers() -> None:
    messages = {m["name"]: m for m in SUITE["components"]["messages"].values()}
    schemas = SUITE["components"]["schemas"]

    assert set(event_types()) <= set(messages)
    for wire_type, model in event_types().items():
        message = messages[wire_type]
        envelope = schemas[message["payload"]["$ref"].rsplit("/", 1)[1]]
        assert envelope["properties"]["type"]["const"] == wire_type
        assert envelope["properties"]["payload"] == {
            "$ref": f"#/components/schemas/{model.__name__}"
        }
        assert message["headers"]["properties"]["keel-type"]["const"] == wire_type


def test_the_suite_names_each_writer_and_each_reader() -> None:
    operations = SUITE["operations"]

    for spec in TOPICS:
        for sender in spec.senders or (spec.owner,):
            assert operations[f"{sender}-sends-{spec.name}"]["action"] == "send"
        for reader in spec.consumers:
            receive = operations[f"{reader}-receives-{spec.name}"]
            assert receive["bindings"]["kafka"]["groupId"]["enum"] == [consumer_group(reader)]


def test_a_service_receives_only_what_it_handles_but_sees_the_whole_channel() -> None:
    document = service_document("returns", [OrderPlaced, ShipmentShipped])

    receive = document["operations"]["returns-receives-orders.order.v1"]
    assert receive["messages"] == [{"$ref": "#/channels/orders.order.v1/messages/OrderPlaced"}]
    channel = document["channels"]["orders.order.v1"]["messages"]
    assert {"OrderPlaced", "OrderConfirmed", "OrderCancelled"} <= set(channel)
    assert "returns-sends-returns.return.v1" in document["operations"]
    assert "returns-sends-returns-service.dlq" in document["operations"]
    assert "inventory-sends-inventory.item.v1" not in document["operations"]


def test_a_record_as_written_validates_and_a_broken_one_does_not() -> None:
    payload = message_schema(SUITE, "order.placed", "payload")
    headers = message_schema(SUITE, "order.placed", "headers")
    record = placed_order().model_dump(mode="json")

    assert payload.is_valid(record)
    assert headers.is_valid({"content-type": "application/json", "keel-type": "order.placed"})
    assert not payload.is_valid({**record, "type": "order.confirmed"})
    assert not payload.is_valid({**record, "payload": {**record["payload"], "lines": "none"}})
    assert not headers.is_valid({"content-type": "application/json", "keel-type": "order.paid"})
