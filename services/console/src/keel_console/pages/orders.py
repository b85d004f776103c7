"""Orders: the search customer service starts from, and one order's page: its timeline (every
status with its reason, each hold and its decision), lines, shipments, postings, what the
customer was told, and the link to its trace, each read from the service that owns it."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, NotYours, render, role_in
from keel_contracts.roles import Role

router = APIRouter()

ORDER_ID = r"^[A-Za-z0-9_-]{1,64}$"
# The search form sends every field, the ones left empty too: empty means any.
ANY_ORDER_ID = r"^[A-Za-z0-9_-]{0,64}$"
ANY_TEXT = r"^[^\x00-\x1f\x7f]{0,100}$"
STATUSES = (
    "received", "validating", "on_hold", "backordered", "confirmed", "released",
    "partially_shipped", "shipped", "delivered", "closed", "cancelled", "rejected",
)  # fmt: skip
# Who may cancel an order or authorize a return from its page (the services decide again).
ORDER_DESK = frozenset({Role.CUSTOMER_SERVICE, Role.OPERATIONS, Role.ADMIN})
DONE = {"cancelled": "Cancelled the order.", "return": "Authorized a return."}
OrderReader = Annotated[
    SignedIn,
    Depends(role_in(Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.FINANCE, Role.LEADERSHIP)),
]


@router.get("/orders")
async def find_orders(
    request: Request,
    console: ConsoleDep,
    person: OrderReader,
    order_id: Annotated[str | None, Query(pattern=ANY_ORDER_ID)] = None,
    external_id: Annotated[str | None, Query(pattern=ANY_TEXT)] = None,
    customer_id: Annotated[str | None, Query(pattern=ANY_TEXT)] = None,
    status: Annotated[str | None, Query(pattern="^(|" + "|".join(STATUSES) + ")$")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Open an order by its id, or search by a channel's external id, a customer or a status."""
    if order_id:
        return RedirectResponse(f"/orders/{order_id}", status_code=303)
    filters = {
        "external_id": external_id or None,
        "customer_id": customer_id or None,
        "status": status or None,
    }
    found, refused = (None, None)
    if any(filters.values()):
        found, refused = await console.services.read(
            person, "order", "/v1/orders", {**filters, "cursor": cursor}
        )
    return render(
        request,
        "orders.html",
        person,
        filters=filters,
        statuses=STATUSES,
        orders=(found or {}).get("items"),
        next_cursor=(found or {}).get("next_cursor"),
        error=f"order: {refused.detail}" if refused else None,
    )


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


async def order_page(
    request: Request,
    console: Any,
    person: SignedIn,
    order_id: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The order's page, each part from the service that owns it, or why it is not shown."""
    order, refused = await console.services.read(person, "order", f"/v1/orders/{order_id}")
    if refused is not None:
        return render(
            request,
            "orders.html",
            person,
            status_code=refused.page_status,
            filters={},
            statuses=STATUSES,
            error=f"order {order_id}: {refused.detail}",
        )
    parts = {
        "shipments": ("fulfillment", "/v1/shipments", {"order_id": order_id}),
        "entries": ("finance", "/v1/journal", {"source_id": order_id}),
        "told": ("order", f"/v1/orders/{order_id}/notifications", None),
    }
    shown: dict[str, Any] = {}
    for name, (service, path, params) in parts.items():
        answer, part_refused = await console.services.read(person, service, path, params)
        shown[name] = answer
        if part_refused is not None:
            shown[f"{name}_note"] = (
                f"not shown to {person.role.value}"
                if part_refused.status == 403
                else part_refused.detail
            )
    shipped = [line for line in order["lines"] if line["shipped"] > 0]
    return render(
        request,
        "order.html",
        person,
        status_code=status_code,
        order=order,
        moments=timeline(order),
        trace_url=console.settings.trace_url.format(order_id=order_id),
        at_the_desk=person.role in ORDER_DESK,
        returnable=shipped,
        # This render's own key: the return form sent twice authorizes one return.
        idempotency_key=str(uuid.uuid4()),
        notice=notice,
        error=error,
        **shown,
    )


@router.get("/orders/{order_id}")
async def view_order(
    request: Request,
    console: ConsoleDep,
    person: OrderReader,
    order_id: str,
    done: Literal["cancelled", "return"] | None = None,
) -> Response:
    if not re.match(ORDER_ID, order_id):
        raise NotYours(f"no order {order_id}")
    return await order_page(request, console, person, order_id, notice=DONE[done] if done else None)
