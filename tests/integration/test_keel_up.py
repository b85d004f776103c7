"""`keel up` and `keel demo` on the embedded SQLite default, then `keel down`."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel_cli import stack
from keel_cli.runtime import prometheus, zipkin
from keel_cli.runtime.processes import port_open
from keel_cli.trace import order_traces
from keel_contracts import SERVICES
from tests.integration.support import Endpoint, eventually, journal_entries, keel, new_sku, stock
from tests.integration.support.browser import chart_figures, first_page_after_sign_in
from tests.integration.support.observability import (
    exemplar_trace_ids,
    prometheus_api,
    query,
    render,
    targets_up,
    zipkin_traces,
)

pytestmark = pytest.mark.integration

TRACED = {"keel-order", "keel-inventory", "keel-finance", "keel-fulfillment"}
PORTS = (9092, zipkin.PORT, prometheus.PORT, *stack.PORTS.values())
PASSWORD = "a long local password"  # the console's people's
# Kept after the run, for a person to look at: what the tracing UI showed of one order.
SCREENSHOT = (
    Path(__file__).resolve().parents[2] / ".keel" / "test" / "artifacts" / "order-trace.png"
)


def straight_through(view: dict[str, Any]) -> bool:
    """Whether the order went from validation to release with no one and nothing to wait for."""
    statuses = [step["status"] for step in view["history"]]
    return "on_hold" not in statuses and "backordered" not in statuses


def placement_trace(order_id: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The trace the order's placement started (its id, and its spans), as Zipkin's API
    answers it once it reaches every service in TRACED."""
    for spans in order_traces(order_id):
        if any(s["name"] == "post /v1/orders" and "parentId" not in s for s in spans):
            services = {span.get("localEndpoint", {}).get("serviceName") for span in spans}
            return (spans[0]["traceId"], spans) if services >= TRACED else None
    return None


def every_service_scraped() -> bool:
    up = targets_up()
    return set(up) == set(SERVICES) and all(up.values())


def alert_states() -> dict[str, str]:
    return {
        rule["name"]: rule["state"]
        for group in prometheus_api("rules")["groups"]
        for rule in group["rules"]
        if rule["type"] == "alerting"
    }


def test_keel_up_runs_a_receipt_through_sqlite_services(tmp_path: Path) -> None:
    taken = [p for p in PORTS if port_open("127.0.0.1", p)]
    assert not taken, f"ports {taken} are busy: stop the running stack (keel down) first"
    state_dir = tmp_path / "state"
    try:
        up = keel(state_dir, "up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "ready in" in up.stdout
        assert sorted(p.name for p in (state_dir / "data").glob("*.db")) == [
            "console.db",
            "finance.db",
            "fulfillment.db",
            "inventory.db",
            "order.db",
            "procurement.db",
            "returns.db",
        ]

        # The keys `keel up` made for its services, which sign the test's requests too.
        keys = stack.keys(state_dir)
        inventory, finance, order = (
            Endpoint(stack.url(service), keys) for service in ("inventory", "finance", "order")
        )
        sku = new_sku()
        [movement_id] = stock(inventory, sku, {"WH-1": 5}, unit_cost="12.00")

        posted = eventually(
            lambda: journal_entries(finance, movement_id), what="finance to post the receipt"
        )
        assert len(posted) == 1
        assert finance.get("/v1/trial-balance").json()["balanced"] is True
        replica = eventually(
            lambda: order.get(f"/v1/replicas/items/{sku}").status_code == 200,
            what="order's item replica",
        )
        assert replica

        # A newcomer adds themselves and signs in to the console, as README says.
        def add_person(name: str, role: str) -> None:
            added = keel(
                state_dir, "user", "add", name, "--role", role, "--password-stdin",
                input_text=f"{PASSWORD}\n",
            )  # fmt: skip
            assert added.returncode == 0, added.stdout + added.stderr

        add_person("olga", "operations")
        console_url = stack.url("console")
        landed = first_page_after_sign_in(console_url, "olga", PASSWORD, "console-first-sign-in")
        assert asyncio.run(landed) == "Exceptions"
        add_person("lea", "leadership")

        def orders_placed() -> int:
            """Orders placed over the last 48 hours, as leadership's chart's figures add up."""
            figures = chart_figures(
                console_url, "lea", PASSWORD, "orders_placed", "console-leadership-demo"
            )
            return sum(int(figure) for figure in asyncio.run(figures))

        before_the_demo = orders_placed()

        again = keel(state_dir, "up")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "already running" in again.stdout

        # The main job, small: a trading day through every service, on SQLite.
        demo = keel(state_dir, "demo", "--orders", "40", "--skus", "20", timeout=600)
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        assert "oversold units: 0" in demo.stdout
        assert "balanced: True" in demo.stdout
        assert "matches: True" in demo.stdout  # the inventory reconciliation
        assert "delivered" in demo.stdout
        # Leadership's chart of orders placed moved with the demo's orders.
        assert orders_placed() >= before_the_demo + 40

        # The tracing UI finds a shipped order's traces by its id, and the one its placement
        # started follows it through the services its messages reached.
        # An order confirmed and released straight away: its placement's trace reaches every
        # service (one held for a person, or backordered until a receipt, goes on in the trace
        # of whatever released it).
        shipped = next(
            o["order_id"]
            for o in order.get("/v1/shipped-orders").json()["items"]
            if straight_through(order.get(f"/v1/orders/{o['order_id']}").json())
        )
        trace_id, spans = eventually(
            lambda: placement_trace(shipped), timeout=60, what="the order's trace"
        )
        traced = keel(state_dir, "trace", shipped)
        assert traced.returncode == 0, traced.stdout + traced.stderr
        assert "keel-fulfillment" in traced.stdout
        assert "/zipkin/traces/" in traced.stdout
        # The same trace in Zipkin's UI, as a browser draws it (the screenshot is kept), tall
        # enough to show every span: the request's statements, each hop, each consumer's.
        page = f"{zipkin.url()}/zipkin/traces/{trace_id}"
        drawn = render(page, screenshot=SCREENSHOT, height=40 * len(spans) + 400)
        assert trace_id in drawn
        assert {service for service in TRACED if service in drawn} == TRACED

        # A service's API page, as a browser draws it with nothing loaded from outside.
        api_page = render(f"{stack.url('order')}/docs", screenshot=SCREENSHOT.with_name("docs.png"))
        assert "/v1/orders/batch" in api_page

        # A call to another service joins the caller's trace: finance asking inventory's stock
        # for the reconciliation the demo printed.
        asked = zipkin_traces(serviceName="keel-inventory", spanName="get /v1/balances")
        services_of = [{s.get("localEndpoint", {}).get("serviceName") for s in t} for t in asked]
        assert any({"keel-finance", "keel-inventory"} <= services for services in services_of)

        # Prometheus scrapes every service, counts the demo's orders, and keeps exemplars that
        # lead from a latency bucket to a trace Zipkin has.
        assert eventually(every_service_scraped, what="every service scraped")
        eventually(
            lambda: sum(query("keel_orders_accepted_total").values()) >= 40,
            what="the demo's orders counted",
        )
        assert eventually(lambda: query("keel:fill_rate:ratio_1h"), what="the fill rate rule")
        exemplar = eventually(
            lambda: exemplar_trace_ids("keel_http_request_duration_seconds_bucket"),
            what="an exemplar",
        )[-1]
        # Its spans may still be on their way (services send them each second).
        traced_request = f"{zipkin.url()}/api/v2/trace/{exemplar}"
        assert eventually(
            lambda: httpx.get(traced_request).status_code == 200, what="the exemplar's trace"
        )
        alerts = alert_states()
        assert {"KeelOversold", "KeelRelayStalled", "KeelPartitionStuck"} <= set(alerts)
        assert alerts["KeelOversold"] == "inactive"  # the demo sold nothing it did not hold

        check = keel(state_dir, "check", "--json")
        assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
        report = json.loads(check.stdout)
        assert report["ok"] is True
        assert report["violations"] == []
        assert any("reserved stock is exactly" in c for c in report["checked"])
        assert any("each shipped order's sale is posted" in c for c in report["checked"])
    finally:
        down = keel(state_dir, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not any(port_open("127.0.0.1", p) for p in PORTS)
