"""A client span for each SQL statement that traced work runs (a request, a message, a batch),
so an order's trace shows where its database time went.

A statement run outside traced work (the relay's polling, the metrics sampler) makes no span:
each would otherwise start a trace of its own, thousands of one-span traces an hour.
"""

from __future__ import annotations

import re
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from sqlalchemy import event
from sqlalchemy.engine import Engine

_OPEN = "keel_kit.statement_spans"  # the connection's statements under way, innermost last
MAX_TEXT = 2000  # a bulk INSERT's text is long and says little past its first rows
_VERB = re.compile(r"^\s*(\w+)")
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def trace_statements(engine: Engine, tracer: Tracer) -> None:
    """Record every statement `engine` runs inside a recorded span as a child span of it."""
    system = engine.dialect.name

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not trace.get_current_span().is_recording():
            return
        span = tracer.start_span(
            operation(statement),
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": system, "db.query.text": statement[:MAX_TEXT]},
        )
        conn.info.setdefault(_OPEN, []).append(span)

    @event.listens_for(engine, "after_cursor_execute")
    def _ended(conn: Any, *_: Any) -> None:
        if spans := conn.info.get(_OPEN):
            spans.pop().end()

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        spans = context.connection.info.get(_OPEN) if context.connection is not None else None
        if spans:
            span = spans.pop()
            span.set_status(Status(StatusCode.ERROR, type(context.original_exception).__name__))
            span.end()


def operation(statement: str) -> str:
    """What a span calls a statement: its verb and first table (`SELECT sales_order`)."""
    verb = _VERB.match(statement)
    table = _TABLE.search(statement)
    return " ".join(m.group(1) for m in (verb, table) if m is not None) or "statement"
