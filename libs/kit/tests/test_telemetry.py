"""What spans say about an order: the attributes the tracing UI finds it by, and a failed
message's span marked as failed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from keel_kit import telemetry

pytestmark = pytest.mark.unit


@dataclass
class Placed:
    order_id: str
    channel: str


@dataclass
class Received:
    sku: str


def test_a_message_about_an_order_names_it_and_its_channel() -> None:
    assert telemetry.about_order(Placed("O-1", "web")) == {
        "order.id": "O-1",
        "keel.channel": "web",
    }
    assert telemetry.about_order(Received("MUG-1")) == {}


def test_only_topics_keyed_by_order_id_name_the_order_of_what_they_carry() -> None:
    assert "orders.order.v1" in telemetry.ORDER_KEYED
    assert "finance.commands.v2" in telemetry.ORDER_KEYED
    assert "inventory.item.v1" not in telemetry.ORDER_KEYED


def test_a_failed_message_marks_its_span_failed_with_the_error() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("orders.order.v1 process"):
        telemetry.failed(ValueError("no such sku"))

    [span] = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: no such sku"
    assert [event.name for event in span.events] == ["exception"]
