"""What spans say about an order: the attributes the tracing UI finds it by, and a failed
message's span marked as failed."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode, TraceFlags
from sqlalchemy import text

from keel_kit import telemetry
from keel_kit.db import Database
from keel_kit.statement_spans import trace_statements

pytestmark = pytest.mark.unit


@dataclass
class Received:
    sku: str


@dataclass
class Placed:
    order_id: str
    channel: str
    lines: list[Received]


def test_a_message_about_an_order_names_it_its_channel_and_its_sku_count() -> None:
    assert telemetry.about_order(Placed("O-1", "web", [Received("MUG"), Received("MUG")])) == {
        "order.id": "O-1",
        "keel.channel": "web",
        "keel.sku_count": 1,
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


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> tuple[TracerProvider, InMemorySpanExporter]:
    """A provider of this test's own whose spans are kept, and the kit's spans made with it
    (the process-wide provider is set once, by whichever test built an app first)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry, "_tracer", provider.get_tracer("keel"))
    return provider, exporter


def test_an_order_of_a_batch_is_traced_on_its_own_linked_both_ways_with_the_batch(
    recorded: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = recorded
    elsewhere = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with (
        provider.get_tracer("test").start_as_current_span("post /v1/orders/batch"),
        telemetry.trace_of_its_own("order accepted", linked=[elsewhere, None]),
    ):
        telemetry.name_order("O-1", channel="web", sku_count=2)

    own, batch = exporter.get_finished_spans()
    assert own.context.trace_id != batch.context.trace_id
    assert own.parent is None
    assert [link.context.span_id for link in own.links] == [
        batch.context.span_id,
        int("b7ad6b7169203331", 16),
    ]
    assert [link.context.span_id for link in batch.links] == [own.context.span_id]
    # Zipkin drops links: each side also names the other's trace in a tag.
    assert own.attributes == {
        "order.id": "O-1",
        "keel.channel": "web",
        "keel.sku_count": 2,
        "keel.linked_traces": (
            f"{batch.context.trace_id:032x}",
            "0af7651916cd43dd8448eb211c80319c",
        ),
    }
    assert dict(batch.attributes or {})["keel.linked_traces"] == (f"{own.context.trace_id:032x}",)


def test_log_lines_name_the_trace_and_the_order_the_work_is_about(
    recorded: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    formatter = telemetry.JsonLogFormatter()

    def logged() -> dict[str, str]:
        record = logging.LogRecord("keel", logging.INFO, __file__, 1, "applied", None, None)
        line: dict[str, str] = json.loads(formatter.format(record))
        return line

    with telemetry.span(
        "orders.order.v1 process",
        kind=SpanKind.CONSUMER,
        traceparent=None,
        attributes={"order.id": "O-7"},
    ):
        inside = logged()
    assert inside["order.id"] == "O-7"
    assert len(inside["trace_id"]) == 32
    assert "order.id" not in logged()  # the work about the order is over


@pytest.mark.asyncio
async def test_statements_of_traced_work_are_its_child_spans_and_no_others(
    tmp_path: Path,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'traced.db'}")
    trace_statements(db.engine.sync_engine, provider.get_tracer("keel.database"))
    async with db.transaction() as session:
        await (await session.connection()).execute(
            text("SELECT 1")
        )  # outside any traced work: no span
    with provider.get_tracer("test").start_as_current_span("post /v1/orders"):
        async with db.transaction() as session:
            await (await session.connection()).execute(
                text("CREATE TABLE sales_order (id INTEGER)")
            )
            await (await session.connection()).execute(text("SELECT id FROM sales_order"))
    await db.dispose()

    *statements, work = exporter.get_finished_spans()
    assert work.name == "post /v1/orders"
    assert [s.name for s in statements] == ["BEGIN", "CREATE", "SELECT sales_order"]  # SQLite
    assert all(
        s.parent is not None and s.parent.span_id == work.context.span_id for s in statements
    )
    assert statements[2].attributes == {
        "db.system.name": "sqlite",
        "db.query.text": "SELECT id FROM sales_order",
    }


def test_a_job_run_is_a_trace_that_names_each_order_it_stages_a_message_about(
    recorded: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _provider, exporter = recorded
    outside = telemetry.staging_traceparent("orders.order.v1", Placed("O-0", "web", []))
    with telemetry.job_run("order-validation-timeout"):
        staged = telemetry.staging_traceparent("orders.order.v1", Placed("O-1", "web", []))
        not_about_an_order = telemetry.staging_traceparent("inventory.item.v1", Received("MUG"))

    assert outside is None  # no work traced, no span made
    stage, run = exporter.get_finished_spans()
    assert run.name == "job order-validation-timeout"
    assert stage.name == "orders.order.v1 stage"
    assert dict(stage.attributes or {})["order.id"] == "O-1"
    assert stage.parent is not None
    assert stage.parent.span_id == run.context.span_id
    # The order's next steps go on under the stage span; other messages under the run's.
    assert f"{stage.context.span_id:016x}" in str(staged)
    assert f"{run.context.span_id:016x}" in str(not_about_an_order)


def test_a_new_trace_linked_to_a_recorded_one_is_recorded_whatever_the_ratio() -> None:
    sampler = telemetry.RatioOrLinked(0.0)
    recorded, unrecorded = (
        Link(
            SpanContext(
                trace_id=0x0AF7651916CD43DD8448EB211C80319C,
                span_id=0xB7AD6B7169203331,
                is_remote=True,
                trace_flags=TraceFlags(flags),
            )
        )
        for flags in (TraceFlags.SAMPLED, TraceFlags.DEFAULT)
    )

    def decision(*links: Link) -> Decision:
        return sampler.should_sample(None, 0x1234, "finance batch", links=links).decision

    assert decision(unrecorded, recorded) == Decision.RECORD_AND_SAMPLE
    assert decision(unrecorded) == Decision.DROP
    assert decision() == Decision.DROP
    assert telemetry.RatioOrLinked(1.0).should_sample(None, 0x1234, "job").decision == (
        Decision.RECORD_AND_SAMPLE
    )


UNRECORDED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def test_work_under_an_unrecorded_parent_records_nothing_and_carries_its_trace_on(
    recorded: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _provider, exporter = recorded
    with telemetry.span(
        "orders.order.v1 process",
        kind=SpanKind.CONSUMER,
        traceparent=UNRECORDED,
        about=Placed("O-3", "web", []),
    ):
        staged = telemetry.staging_traceparent("orders.order.v1", Placed("O-3", "web", []))
        published = telemetry.child_traceparent(
            "orders.order.v1 publish", parent=staged, attributes={}
        )
        line = json.loads(
            telemetry.JsonLogFormatter().format(
                logging.LogRecord("keel", logging.INFO, __file__, 1, "applied", None, None)
            )
        )

    assert exporter.get_finished_spans() == ()
    assert staged == published == UNRECORDED  # the order's trace goes on, unrecorded
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["order.id"] == "O-3"


def test_work_under_a_recorded_parent_is_its_child_named_after_the_order(
    recorded: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _provider, exporter = recorded
    parent = UNRECORDED[:-2] + "01"
    with telemetry.span(
        "orders.order.v1 process",
        kind=SpanKind.CONSUMER,
        traceparent=parent,
        attributes={"messaging.message.id": "E-1"},
        about=Placed("O-4", "web", [Received("MUG")]),
    ):
        pass

    [span] = exporter.get_finished_spans()
    assert span.parent is not None
    assert span.parent.span_id == 0xB7AD6B7169203331
    assert dict(span.attributes or {}) == {
        "messaging.message.id": "E-1",
        "order.id": "O-4",
        "keel.channel": "web",
        "keel.sku_count": 1,
    }


def test_a_batch_trace_links_only_the_recorded_traces_it_carries(
    recorded: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _provider, exporter = recorded
    sampled = UNRECORDED[:-2] + "01"
    with telemetry.trace_of_its_own("finance batch", linked=[UNRECORDED, None, "junk", sampled]):
        pass

    [batch] = exporter.get_finished_spans()
    assert [link.context.trace_flags.sampled for link in batch.links] == [True]
    assert dict(batch.attributes or {})["keel.linked_traces"] == (
        "0af7651916cd43dd8448eb211c80319c",
    )


@pytest.mark.parametrize(
    ("traceparent", "span_id"),
    [
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0xB7AD6B7169203331),
        ("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-later", 0xB7AD6B7169203331),
        ("00-00000000000000000000000000000000-b7ad6b7169203331-01", None),
        ("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", None),
        ("not a traceparent", None),
        (None, None),
    ],
)
def test_a_traceparent_names_a_remote_parent_only_when_well_formed(
    traceparent: str | None, span_id: int | None
) -> None:
    parent = telemetry.remote_parent(traceparent)
    assert (parent.span_id if parent else None) == span_id
    assert parent is None or parent.is_remote
