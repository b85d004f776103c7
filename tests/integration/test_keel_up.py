"""`keel up` and `keel demo` on the embedded SQLite default, then `keel down`."""

import json
from pathlib import Path
from typing import Any

import pytest

from keel_cli import stack
from keel_cli.runtime.processes import port_open
from keel_cli.trace import order_traces
from tests.integration.support import Endpoint, eventually, journal_entries, keel, new_sku, stock

pytestmark = pytest.mark.integration

TRACED = {"keel-order", "keel-inventory", "keel-finance", "keel-fulfillment"}


def straight_through(view: dict[str, Any]) -> bool:
    """Whether the order went from validation to release with no one and nothing to wait for."""
    statuses = [step["status"] for step in view["history"]]
    return "on_hold" not in statuses and "backordered" not in statuses


def placement_trace_services(order_id: str) -> set[str]:
    """The services in the trace the order's placement started, as Zipkin's API answers it."""
    for spans in order_traces(order_id):
        if any(s["name"] == "post /v1/orders" and "parentId" not in s for s in spans):
            return {span.get("localEndpoint", {}).get("serviceName") for span in spans}
    return set()


def test_keel_up_runs_a_receipt_through_sqlite_services(tmp_path: Path) -> None:
    taken = [p for p in (9092, 9411, *stack.PORTS.values()) if port_open("127.0.0.1", p)]
    assert not taken, f"ports {taken} are busy: stop the running stack (keel down) first"
    state_dir = tmp_path / "state"
    try:
        up = keel(state_dir, "up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "ready in" in up.stdout
        assert sorted(p.name for p in (state_dir / "data").glob("*.db")) == [
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
        followed = eventually(
            lambda: placement_trace_services(shipped) >= TRACED,
            timeout=60,
            what="the order's trace",
        )
        assert followed
        traced = keel(state_dir, "trace", shipped)
        assert traced.returncode == 0, traced.stdout + traced.stderr
        assert "keel-fulfillment" in traced.stdout
        assert "/zipkin/traces/" in traced.stdout

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
    assert not any(port_open("127.0.0.1", p) for p in (9092, 9411, *stack.PORTS.values()))
