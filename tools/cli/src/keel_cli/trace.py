"""`keel trace ORDER_ID`: an order's traces from the tracing UI's API, as trees in the terminal.

An order's placement is one trace, from the intake request through every service its messages
reach; each later request about it (a warehouse reporting its shipment) starts one of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.tree import Tree

from keel_cli.runtime import zipkin

Span = dict[str, Any]


def command(order_id: Annotated[str, typer.Argument(help="the order's id")]) -> None:
    """An order's traces from the tracing UI, oldest first, each as a tree (service, operation,
    duration) with its link in the UI. Exits 1 if the UI knows no trace of the order."""
    console = Console()
    try:
        traces = order_traces(order_id)
    except httpx.HTTPError as error:
        console.print(f"[red]the tracing UI does not answer ({error}); `keel up` starts it")
        raise typer.Exit(1) from error
    if not traces:
        console.print(f"[red]no trace of order {order_id} (yet: spans arrive within seconds)")
        raise typer.Exit(1)
    for spans in traces:
        console.print(tree(spans))
        console.print(ui_link(spans))


def order_traces(order_id: str, base_url: str | None = None) -> list[list[Span]]:
    """The traces whose spans carry the order's `order.id`, oldest first."""
    found: list[list[Span]] = httpx.get(
        f"{base_url or zipkin.url()}/api/v2/traces",
        params={"annotationQuery": f"order.id={order_id}", "limit": 50},
        timeout=10,
    ).json()
    return sorted(found, key=lambda spans: min(span.get("timestamp", 0) for span in spans))


def tree(spans: Sequence[Span]) -> Tree:
    """Each span under its parent, in the order they started: service, operation, duration."""
    known = {span["id"] for span in spans}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in spans:
        parent = span.get("parentId")
        children[parent if parent in known else None].append(span)
    root = Tree(f"trace {spans[0]['traceId']}" if spans else "no trace")

    def add(branch: Tree, parent: str | None) -> None:
        for span in sorted(children[parent], key=lambda s: s.get("timestamp", 0)):
            add(branch.add(_label(span)), span["id"])

    add(root, None)
    return root


def _label(span: Span) -> str:
    service = span.get("localEndpoint", {}).get("serviceName", "?")
    failed = "  [red]failed[/]" if "error" in span.get("tags", {}) else ""
    return f"{service}  {span.get('name', '?')}  {span.get('duration', 0) / 1000:.1f} ms{failed}"


def ui_link(spans: Sequence[Span]) -> str:
    return f"{zipkin.url()}/zipkin/traces/{spans[0]['traceId']}"
