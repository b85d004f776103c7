"""Tracing and structured logs: one trace id from the HTTP request through Kafka and beyond.

The W3C `traceparent` travels in message headers and is also stored on outbox rows, so the relay
(which runs later, outside the request) continues the request's trace rather than starting one.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO

import httpx
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    Decision,
    ParentBased,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from keel_contracts import TOPICS

_propagator = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("keel")
# The order the work at hand is about, for log lines (a span's attributes are there only when
# it is recorded; logs name the order whether or not it is sampled).
_order_of_logs: ContextVar[str | None] = ContextVar("keel_order_of_logs", default=None)
MAX_LINKS = 128  # the SDK's default cap on a span's links: a bigger batch links its first ones
LINKED_TRACES = "keel.linked_traces"
_in_job_run: ContextVar[bool] = ContextVar("keel_in_job_run", default=False)
_VERSION_00 = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


class RatioOrLinked(TraceIdRatioBased):
    """Records a share of new traces, and every new trace linked to a recorded one: a consumer
    batch carrying a recorded order's message (its shared statements are there), or an order
    of a recorded batch request, so that a sampled order's trace is whole."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if any(link.context.trace_flags.sampled for link in links or ()):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)
        return super().should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"RatioOrLinked{{{self.rate}}}"


def recorded_share(
    otlp_endpoint: str | None, zipkin_endpoint: str | None, trace_file: Path | None, ratio: float
) -> float:
    """The share of new traces `setup_tracing` has recorded: `ratio`, or none without an
    exporter to send them to (what `keel_trace_sample_ratio` tells a benchmark)."""
    return ratio if otlp_endpoint or zipkin_endpoint or trace_file else 0.0


def setup_tracing(
    service: str,
    *,
    otlp_endpoint: str | None,
    trace_file: Path | None,
    zipkin_endpoint: str | None = None,
    sample_ratio: float = 1.0,
) -> TracerProvider:
    """Install the process-wide tracer provider (OpenTelemetry allows this once per process).

    With no exporter nothing is recorded: spans would be built only to be dropped, a cost paid
    on every message. Trace ids are still made and propagated, so logs and headers carry them.
    """
    exporting = bool(otlp_endpoint or zipkin_endpoint or trace_file)
    sampler = ParentBased(RatioOrLinked(sample_ratio)) if exporting else ALWAYS_OFF
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"keel-{service}"}), sampler=sampler
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    if zipkin_endpoint:
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        # `keel up` keeps every span of every message: a queue deep enough for a burst's
        # spans (the default 2,048 drops some), sent each second.
        exporter = ZipkinExporter(endpoint=zipkin_endpoint)
        provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=32_768, schedule_delay_millis=1000)
        )
    if trace_file:
        provider.add_span_processor(BatchSpanProcessor(JsonLinesSpanExporter(trace_file)))
    trace.set_tracer_provider(provider)
    return provider


def traced_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """`client`, whose calls to another service join the caller's trace (finance asking
    inventory's stock). Each client is instrumented, not httpx as a whole, which would also
    stamp a trace of its own on the calls of whatever else shares the process (a test's)."""
    HTTPXClientInstrumentor.instrument_client(client)
    return client


class JsonLinesSpanExporter(SpanExporter):
    """Appends each finished span as one JSON line: greppable traces without a collector."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            self._file.write(span.to_json(indent=None) + "\n")
        self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._file.close()


# Topics keyed by order id: a message published on one is about that order.
ORDER_KEYED = frozenset(t.name for t in TOPICS if t.key == "order_id")


def about_order(payload: object) -> dict[str, str | int]:
    """The span attributes naming the order (its channel, its SKU count) a message is about, if
    any: `order.id` is what the tracing UI finds an order's trace by."""
    # Read from the instance's fields: asking a pydantic model for a field it lacks is slow.
    fields = getattr(payload, "__dict__", {})
    attributes: dict[str, str | int] = {}
    for field, attribute in (("order_id", "order.id"), ("channel", "keel.channel")):
        value = fields.get(field)
        if isinstance(value, str):
            attributes[attribute] = value
    lines = fields.get("lines")
    if isinstance(lines, Sequence):
        attributes["keel.sku_count"] = len({getattr(line, "sku", None) for line in lines})
    return attributes


def _order_of(payload: object) -> str | None:
    order_id = getattr(payload, "__dict__", {}).get("order_id")
    return order_id if isinstance(order_id, str) else None


def name_order(order_id: str, *, channel: str, sku_count: int) -> None:
    """Say that the current span (a request's, say) is about an order, as `about_order` does
    for a message's; the log lines written from here on name it too."""
    trace.get_current_span().set_attributes(
        {"order.id": order_id, "keel.channel": channel, "keel.sku_count": sku_count}
    )
    _order_of_logs.set(order_id)


def exemplar() -> dict[str, str] | None:
    """The current trace's id as a metric exemplar (OpenMetrics), so that a slow bucket leads to
    a trace; None when the trace is not recorded, as it would lead nowhere."""
    context = trace.get_current_span().get_span_context()
    if not (context.is_valid and context.trace_flags.sampled):
        return None
    return {"trace_id": format(context.trace_id, "032x")}


def remote_parent(traceparent: str | None) -> SpanContext | None:
    """The valid span context a W3C `traceparent` names, else None. Version 00, which Keel
    writes, is read here directly (the propagator's way costs more than the span it parents)."""
    if not traceparent:
        return None
    if (match := _VERSION_00.fullmatch(traceparent)) is not None:
        trace_id, span_id, flags = (int(part, 16) for part in match.groups())
        context = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))
    else:
        extracted = _propagator.extract({"traceparent": traceparent})
        context = trace.get_current_span(extracted).get_span_context()
    return context if context.is_valid else None


def _flags(traceparent: str) -> int:
    try:
        return int(traceparent[-2:], 16)
    except ValueError:
        return 0


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind,
    traceparent: str | None,
    attributes: dict[str, str | int] | None = None,
    about: object = None,
) -> Iterator[None]:
    """Run a block in a span whose parent is the given remote context (if any). `about` is the
    message the work is about: its order (`about_order`) names the span and the log lines."""
    parent = remote_parent(traceparent)
    attributes = attributes or {}
    order = _order_of(about) if about is not None else attributes.get("order.id")
    logs_name = _order_of_logs.set(order if isinstance(order, str) else None)
    try:
        if parent is not None and not parent.trace_flags.sampled:
            # Nothing under an unrecorded parent is recorded (every sampler here defers to the
            # parent): its context goes on as it is, without a span the SDK would build to drop.
            with _carrying_on(parent):
                yield
            return
        if about is not None:
            attributes = {**attributes, **about_order(about)}
        context = trace.set_span_in_context(NonRecordingSpan(parent)) if parent else None
        with _tracer.start_as_current_span(name, context=context, kind=kind, attributes=attributes):
            yield
    finally:
        _order_of_logs.reset(logs_name)


@contextmanager
def _carrying_on(parent: SpanContext) -> Iterator[None]:
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def trace_of_its_own(name: str, *, linked: Sequence[str | None] = ()) -> Iterator[None]:
    """Run a block in a new trace, linked both ways with the current span: an order that came
    in a batch request is traced on its own from here, its trace and the batch's each pointing
    at the other. `linked` adds more traces to point at (the items a consumer batch carries),
    those recorded."""
    current = trace.get_current_span()
    links = [Link(current.get_span_context())] if current.get_span_context().is_valid else []
    # Only recorded traces: a link to one never recorded would lead nowhere. (A batch links
    # hundreds: its flags, the traceparent's last two digits, are read before the rest.)
    recorded = (t for t in linked if t and _flags(t) & TraceFlags.SAMPLED)
    for context in filter(None, map(remote_parent, recorded)):
        if len(links) == MAX_LINKS:
            break
        links.append(Link(context))
    logs_name = _order_of_logs.set(None)  # until the block names its order
    try:
        with _tracer.start_as_current_span(name, context=Context(), links=links) as own:
            if links and own.is_recording():
                # Zipkin's model has no links (its exporter drops them): the ids go in a tag.
                pointing_at = [format(link.context.trace_id, "032x") for link in links]
                own.set_attribute(LINKED_TRACES, pointing_at)
            already = _linked_traces(current)
            if own.get_span_context().is_valid and len(already) < MAX_LINKS:
                current.add_link(own.get_span_context())
                mine = format(own.get_span_context().trace_id, "032x")
                current.set_attribute(LINKED_TRACES, [*already, mine])
            yield
    finally:
        _order_of_logs.reset(logs_name)


def _linked_traces(span: trace.Span) -> list[str]:
    recorded = getattr(span, "attributes", None) or {}
    return list(recorded.get(LINKED_TRACES, ()))


@contextmanager
def job_run(name: str) -> Iterator[None]:
    """A periodic job's run, in a trace of its own. Each message it stages about an order gets a
    span naming that order (`staging_traceparent`), so that searching for the order finds the
    run that touched it, and the order's next steps go on from there."""
    in_job = _in_job_run.set(True)
    try:
        with trace_of_its_own(f"job {name}"):
            yield
    finally:
        _in_job_run.reset(in_job)


def staging_traceparent(topic: str, message: object) -> str | None:
    """The trace a message staged now goes on in: the current span's, or, in a job's run, a
    span of its own about the order the message names."""
    if _in_job_run.get() and "order.id" in (about := about_order(message)):
        return child_traceparent(f"{topic} stage", parent=current_traceparent(), attributes=about)
    return current_traceparent()


def failed(error: BaseException) -> None:
    """Mark the current span as failed by `error` (a message going to the dead letters)."""
    current = trace.get_current_span()
    current.record_exception(error)
    current.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))


def child_traceparent(
    name: str, *, parent: str | None, attributes: dict[str, str | int]
) -> str | None:
    """Record a zero-length producer span under `parent` and return its own traceparent (or
    `parent` itself when it is not recorded: neither would its child be)."""
    context = remote_parent(parent)
    if context is not None and not context.trace_flags.sampled:
        return parent
    with span(name, kind=SpanKind.PRODUCER, traceparent=parent, attributes=attributes):
        return current_traceparent()


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, carrying the active trace and span ids."""

    def format(self, record: logging.LogRecord) -> str:
        ctx = trace.get_current_span().get_span_context()
        payload = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if ctx.is_valid:
            payload["trace_id"] = format(ctx.trace_id, "032x")
            payload["span_id"] = format(ctx.span_id, "016x")
        if (order := _order_of_logs.get()) is not None:
            payload["order.id"] = order
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
