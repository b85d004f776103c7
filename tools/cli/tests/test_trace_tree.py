"""`keel trace`: an order's spans, as Zipkin's API gives them, shown as a tree."""

from __future__ import annotations

import pytest
from rich.console import Console

from keel_cli.trace import Span, tree

pytestmark = pytest.mark.unit


def span(span_id: str, parent: str | None, service: str, name: str, at: int) -> Span:
    found: Span = {
        "traceId": "abc123",
        "id": span_id,
        "name": name,
        "timestamp": at,
        "duration": 2500,
        "localEndpoint": {"serviceName": service},
    }
    if parent is not None:
        found["parentId"] = parent
    return found


def shown(spans: list[Span]) -> list[str]:
    console = Console(width=200, record=True)
    console.print(tree(spans))
    return console.export_text().splitlines()


def test_each_span_sits_under_its_parent_in_the_order_they_started() -> None:
    spans = [
        span("c", "a", "keel-inventory", "orders.order.v1 process", 30),
        span("a", None, "keel-order", "POST /v1/orders", 10),
        span("b", "a", "keel-finance", "finance.commands.v2 process", 20),
        span("d", "c", "keel-fulfillment", "orders.order.v1 process", 40),
    ]
    lines = shown(spans)
    assert lines[0] == "trace abc123"
    assert "keel-order  POST /v1/orders  2.5 ms" in lines[1]
    assert "keel-finance" in lines[2]
    assert "keel-inventory" in lines[3]
    assert "keel-fulfillment" in lines[4]
    # Deeper: fulfillment hangs under inventory's span, which hangs under the request.
    indent = [len(line) - len(line.lstrip(" │├└─")) for line in lines[1:]]
    assert indent[3] > indent[2] > indent[0]


def test_a_span_whose_parent_is_not_in_the_trace_is_shown_at_the_top() -> None:
    lines = shown([span("x", "gone", "keel-order", "release-delayed-orders", 5)])
    assert "keel-order  release-delayed-orders" in lines[1]
