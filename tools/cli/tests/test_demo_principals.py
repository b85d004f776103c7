"""The demo acts as people, each with the least role that may do each step: its requests go
through the services' own access guard and permission tables (with tokens the stack's issuer
signed), in front of canned answers, and who called which route is kept."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from keel_cli import stack
from keel_cli.demo import catalog, procure, shoppers, warehouses
from keel_cli.demo import returns as customer_returns
from keel_cli.people import (
    APPROVERS,
    BUYER,
    CONTROLLER,
    LEADERSHIP,
    OPERATIONS,
    ORDER_DESK,
    WAREHOUSE,
    Person,
    Staff,
)
from keel_cli.permissions import service_permissions
from keel_kit.access import AccessGuard
from keel_kit.identity import KeySource, Principal, TokenRules, TokenVerifier
from keel_kit.signing import ALGORITHM, AUDIENCE, LOCAL_ISSUER

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]

Answer = Callable[[Request], tuple[int, Any]]  # the request -> (status, JSON body)


@dataclass(frozen=True)
class Call:
    service: str
    route: str  # "POST /v1/purchase-orders/{po_id}/approve"
    path: str
    caller: Principal
    body: bytes


@dataclass
class GuardedServices:
    """The services at the HTTP level, behind the real access guard: `answers` maps
    (service, route) to what it says; every request the guard let through is kept in `calls`."""

    state_dir: Path
    answers: Mapping[tuple[str, str], Answer]
    calls: list[Call] = field(default_factory=list)

    def client(self, service: str, headers: Mapping[str, str]) -> httpx.AsyncClient:
        keys = stack.keys(self.state_dir)
        rules = TokenRules(
            issuer=LOCAL_ISSUER, audience=AUDIENCE, algorithms=(ALGORITHM,), role_claim="role"
        )
        guard = AccessGuard(
            self._service(service),
            verifier=TokenVerifier(KeySource(file=keys.jwks_file), rules),
            permissions=service_permissions(service),
        )
        return httpx.AsyncClient(
            base_url=stack.url(service), headers=headers, transport=httpx.ASGITransport(guard)
        )

    def _service(self, service: str) -> Callable[[Scope, Receive, Send], Any]:
        permissions = service_permissions(service)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            request = Request(scope, receive)
            template = permissions.template(request.method, request.url.path)
            route = f"{request.method} {template}"
            self.calls.append(
                Call(
                    service,
                    route,
                    request.url.path,
                    scope["state"]["principal"],
                    await request.body(),
                )
            )
            status, body = self.answers[(service, route)](request)
            await JSONResponse(body, status_code=status)(scope, receive, send)

        return app

    def callers(self) -> dict[tuple[str, str], frozenset[str]]:
        """(service, route) -> who called it, as `person (role)`."""
        seen: dict[tuple[str, str], frozenset[str]] = {}
        for call in self.calls:
            key = (call.service, call.route)
            seen[key] = seen.get(key, frozenset()) | {f"{call.caller.subject} ({call.caller.role})"}
        return seen


def said(status: int, body: Any = None) -> Answer:
    return lambda _request: (status, {} if body is None else body)


def who(*people: Person) -> frozenset[str]:
    return frozenset(f"{p.name} ({p.role})" for p in people)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


async def test_operations_registers_the_catalog_and_the_warehouse_receives_it(
    state_dir: Path,
) -> None:
    services = GuardedServices(
        state_dir,
        {
            ("inventory", "POST /v1/locations"): said(201),
            ("inventory", "POST /v1/items"): said(201),
            ("inventory", "POST /v1/receipts"): said(201),
            **{
                (s, "GET /v1/replicas/items/{sku}"): said(200)
                for s in sorted(catalog.ITEM_REPLICAS)
            },
            **{
                (s, "GET /v1/replicas/status"): said(200, {"lag": {}})
                for s in sorted(catalog.ITEM_REPLICAS)
            },
        },
    )
    rng = random.Random(1)
    items = catalog.items("T", 3, rng)

    async with Staff(services.client, state_dir) as staff:
        await catalog.seed(
            staff.client(OPERATIONS, "inventory"), staff.client(WAREHOUSE, "inventory"), items, rng
        )
        replicas: dict[str, httpx.AsyncClient] = {
            s: staff.client(OPERATIONS, s) for s in catalog.ITEM_REPLICAS
        }
        await catalog.wait_until_replicated(replicas, [i.sku for i in items])

    callers = services.callers()
    assert callers.pop(("inventory", "POST /v1/locations")) == who(OPERATIONS)
    assert callers.pop(("inventory", "POST /v1/items")) == who(OPERATIONS)
    assert callers.pop(("inventory", "POST /v1/receipts")) == who(WAREHOUSE)
    assert set(callers.values()) == {who(OPERATIONS)}  # the replication checks
    assert {service for service, _ in callers} == catalog.ITEM_REPLICAS


def purchase_order(po_id: str) -> dict[str, Any]:
    """PO-BIG is above the approval threshold; PO-LATE's supplier moves its date."""
    supplier = "SUP-LATEDAY" if po_id == "PO-LATE" else "SUP-PROMPT"
    return {
        "po_id": po_id,
        "supplier_id": supplier,
        "approvals_required": 2 if po_id == "PO-BIG" else 1,
        "created_by": "replenishment-run:RUN-1",
        "expected_date": "2026-12-10",
        "lines": [{"sku": "T-0001", "quantity": 20}],
    }


def po_of(request: Request) -> tuple[int, Any]:
    return 200, purchase_order(request.url.path.split("/")[3])


async def test_replenishment_is_approved_by_two_other_buyers_and_received_by_the_warehouse(
    state_dir: Path,
) -> None:
    drafted = ["PO-BIG", "PO-SMALL", "PO-LATE"]
    run = {"run_id": "RUN-1", "suggestions_made": 3, "purchase_orders_drafted": 3}
    suggestions = {"items": [{"po_id": po_id} for po_id in drafted], "next_cursor": None}
    services = GuardedServices(
        state_dir,
        {
            ("procurement", "POST /v1/replenishment-runs"): said(201, run),
            ("procurement", "GET /v1/replenishment-runs/{run_id}/suggestions"): said(
                200, suggestions
            ),
            ("procurement", "GET /v1/purchase-orders/{po_id}"): po_of,
            ("procurement", "POST /v1/purchase-orders/{po_id}/approve"): po_of,
            ("procurement", "POST /v1/purchase-orders/{po_id}/send"): po_of,
            ("procurement", "POST /v1/purchase-orders/{po_id}/confirm"): po_of,
            ("procurement", "POST /v1/purchase-orders/{po_id}/receipts"): said(201),
            ("procurement", "POST /v1/purchase-orders/{po_id}/close"): po_of,
            ("procurement", "GET /v1/suppliers/{supplier_id}"): said(200),
            ("order", "GET /v1/exceptions"): said(200, {"items": [], "next_cursor": None}),
        },
    )

    async with Staff(services.client, state_dir) as staff:
        await procure.replenish(
            staff.client(BUYER, "procurement"),
            staff.client(LEADERSHIP, "order"),
            approvers=[staff.client(a, "procurement") for a in APPROVERS],
            warehouse=staff.client(WAREHOUSE, "procurement"),
            patience=0.0,
        )

    approvals = [c for c in services.calls if c.route.endswith("/approve")]
    by_order = {
        po: [c.caller.subject for c in approvals if c.path.split("/")[3] == po] for po in drafted
    }
    assert sorted(by_order.pop("PO-BIG")) == [a.name for a in APPROVERS]
    assert all(len(approvers) == 1 for approvers in by_order.values())
    assert BUYER.name not in {c.caller.subject for c in approvals}
    assert {c.body for c in approvals} == {b""}  # the token names the approver, the body nobody
    callers = services.callers()
    assert callers.pop(("procurement", "POST /v1/purchase-orders/{po_id}/approve")) == who(
        *APPROVERS
    )
    assert callers.pop(("procurement", "POST /v1/purchase-orders/{po_id}/receipts")) == who(
        WAREHOUSE
    )
    assert callers.pop(("order", "GET /v1/exceptions")) == who(LEADERSHIP)
    assert set(callers.values()) == {who(BUYER)}  # running, sending, confirming, closing


async def test_customer_service_takes_orders_and_the_warehouse_ships_them(
    state_dir: Path,
) -> None:
    shown = iter(["released", "delivered"])
    shipment = {"shipment_id": "SH-1", "status": "packed", "location_id": "WH-EAST"}
    services = GuardedServices(
        state_dir,
        {
            ("order", "POST /v1/orders"): said(202, {"order_id": "O-1"}),
            ("order", "GET /v1/orders/{order_id}"): lambda _: (200, {"status": next(shown)}),
            ("fulfillment", "GET /v1/shipments"): said(200, [shipment]),
            ("fulfillment", "POST /v1/warehouses/{location_id}/events"): said(202),
        },
    )
    rng = random.Random(3)
    items = catalog.items("T", 2, rng)

    async with Staff(services.client, state_dir) as staff:
        desk = staff.client(ORDER_DESK, "order")
        placed = await shoppers.place_all(desk, "T", 1, items, rng, lambda: None)
        placed[0].cancel = False
        await warehouses.drive(
            desk, staff.client(WAREHOUSE, "fulfillment"), placed, lambda _: None, patience=5.0
        )

    assert services.callers() == {
        ("order", "POST /v1/orders"): who(ORDER_DESK),
        ("order", "GET /v1/orders/{order_id}"): who(ORDER_DESK),
        ("fulfillment", "GET /v1/shipments"): who(WAREHOUSE),
        ("fulfillment", "POST /v1/warehouses/{location_id}/events"): who(WAREHOUSE),
    }


async def test_a_return_is_authorized_by_the_desk_graded_by_the_warehouse_refunded_by_finance(
    state_dir: Path,
) -> None:
    inspected = {"refunds": [{"refund_id": "RF-1", "status": "pending_approval"}]}
    services = GuardedServices(
        state_dir,
        {
            ("order", "GET /v1/orders/{order_id}"): said(
                200, {"lines": [{"sku": "T-0001", "shipped": 2}]}
            ),
            ("returns", "POST /v1/returns"): said(201, {"return_id": "RT-1"}),
            ("fulfillment", "GET /v1/shipments"): said(200, [{"location_id": "WH-EAST"}]),
            ("returns", "POST /v1/returns/{return_id}/receipt"): said(200),
            ("returns", "POST /v1/returns/{return_id}/inspection"): said(200, inspected),
            ("returns", "POST /v1/refunds/{refund_id}/approve"): said(200),
            ("returns", "GET /v1/returns/{return_id}"): said(200, {"status": "refunded"}),
        },
    )

    async with Staff(services.client, state_dir) as staff:
        opened = await customer_returns.take_back(
            staff.client(ORDER_DESK, "returns"),
            staff.client(ORDER_DESK, "order"),
            staff.client(ORDER_DESK, "fulfillment"),
            ["O-1"],
            1.0,
            random.Random(5),
            lambda: None,
            warehouse=staff.client(WAREHOUSE, "returns"),
            finance=staff.client(CONTROLLER, "returns"),
            patience=5.0,
        )

    assert opened == 1
    callers = services.callers()
    assert callers.pop(("returns", "POST /v1/returns/{return_id}/receipt")) == who(WAREHOUSE)
    assert callers.pop(("returns", "POST /v1/returns/{return_id}/inspection")) == who(WAREHOUSE)
    assert callers.pop(("returns", "POST /v1/refunds/{refund_id}/approve")) == who(CONTROLLER)
    assert set(callers.values()) == {who(ORDER_DESK)}
    [approval] = [c for c in services.calls if c.route.endswith("/approve")]
    assert approval.body == b""  # the token names the approver, the body nobody
