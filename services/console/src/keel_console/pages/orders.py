"""An order's timeline: every status with its reason, each hold and its decision, shipments and
postings, and the link to the order's trace, read from the services that own each part."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, render, role_in
from keel_contracts.roles import Role

router = APIRouter()

ORDER_ID = r"^[A-Za-z0-9_-]{1,64}$"
OrderReader = Annotated[
    SignedIn,
    Depends(role_in(Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.FINANCE, Role.LEADERSHIP)),
]


@router.get("/orders")
async def find_order(
    request: Request,
    person: OrderReader,
    order_id: Annotated[str | None, Query(pattern=ORDER_ID)] = None,
) -> Response:
    if order_id:
        return RedirectResponse(f"/orders/{order_id}", status_code=303)
    return render(request, "orders.html", person)


async def _part(
    console: Any, person: SignedIn, service: str, path: str, params: dict[str, Any]
) -> tuple[Any, str | None]:
    """One part of the timeline, or why it is not shown (a role may not read it)."""
    try:
        return await console.services.get(person, service, path, params), None
    except Refused as refused:
        if refused.status == 403:
            return None, f"not shown to {person.role.value}"
        return None, refused.detail


def timeline(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's statuses and holds as one list of moments, oldest first."""
    moments = [{"at": h["at"], "what": h["status"], "why": h["reason"]} for h in order["history"]]
    for hold in order["holds"]:
        moments.append(
            {"at": hold["opened_at"], "what": f"{hold['type']} opened", "why": hold["reason"]}
        )
        if hold["resolved_at"]:
            moments.append(
                {
                    "at": hold["resolved_at"],
                    "what": f"{hold['type']} {hold['resolution']}",
                    "why": hold.get("resolution_note") or "",
                }
            )
    return sorted(moments, key=lambda m: str(m["at"]))


@router.get("/orders/{order_id}")
async def order_page(
    request: Request, console: ConsoleDep, person: OrderReader, order_id: str
) -> Response:
    try:
        order = await console.services.get(person, "order", f"/v1/orders/{order_id}")
    except Refused as refused:
        return render(
            request,
            "orders.html",
            person,
            status_code=refused.status if refused.status < 500 else 502,
            error=f"order {order_id}: {refused.detail}",
        )
    shipments, shipments_note = await _part(
        console, person, "fulfillment", "/v1/shipments", {"order_id": order_id}
    )
    journal, journal_note = await _part(
        console, person, "finance", "/v1/journal", {"source_id": order_id}
    )
    return render(
        request,
        "order.html",
        person,
        order=order,
        moments=timeline(order),
        shipments=shipments or [],
        shipments_note=shipments_note,
        entries=journal or [],
        journal_note=journal_note,
        trace_url=console.settings.trace_url.format(order_id=order_id),
    )
