"""The warehouse's page: a location's shipments in pick order, and its events recorded (picked,
packed, shipped with carrier and tracking, delivered) through fulfillment's events endpoint.

Each rendered form carries a fresh event id, so a form sent twice (a double click, a resend
after a dropped answer) is one event: fulfillment applies a warehouse's event id once.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, FormDep, NotYours, page_or_rows, render, role_in, short_id
from keel_contracts.roles import Role

router = APIRouter()

LOCATION = r"^[A-Za-z0-9_.-]{1,64}$"
Status = Literal["open", "shipped", "delivered", "cancelled"]
WarehouseWorker = Annotated[SignedIn, Depends(role_in(Role.WAREHOUSE))]


async def _queue_page(
    request: Request,
    console: ConsoleDep,
    person: SignedIn,
    *,
    location_id: str | None,
    status: Status,
    cursor: str | None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    shipments: list[dict[str, object]] = []
    inbound: list[dict[str, object]] = []
    next_cursor = None
    if location_id:
        path = f"/v1/warehouses/{location_id}/shipments"
        params = {"status": status, "cursor": cursor, "limit": 50}
        page, refused = await console.services.read(person, "fulfillment", path, params)
        if refused is not None:
            error = error or f"fulfillment: {refused.detail}"
        else:
            shipments, next_cursor = page["items"], page["next_cursor"]
        # The goods the location may still receive against purchase orders (the first 100).
        params = {"receivable": "true", "location_id": location_id, "limit": 100}
        due, refused = await console.services.read(
            person, "procurement", "/v1/purchase-orders", params
        )
        if refused is not None:
            error = error or f"procurement: {refused.detail}"
        else:
            inbound = due["items"]
    for shipment in shipments:
        shipment["form_event_id"] = str(uuid.uuid4())
    template = page_or_rows(request, "warehouse.html", "_shipments.html")
    return render(
        request,
        template,
        person,
        status_code=status_code,
        location_id=location_id,
        status=status,
        shipments=shipments,
        inbound=inbound,
        # This render's own key: a receipt form sent twice books the goods once.
        idempotency_key=str(uuid.uuid4()),
        next_cursor=next_cursor,
        notice=notice,
        error=error,
    )


async def _refused(
    request: Request,
    console: ConsoleDep,
    person: SignedIn,
    location_id: str,
    what: str,
    refused: Refused,
) -> Response:
    """The location's page again, with what a service refused and why."""
    return await _queue_page(
        request,
        console,
        person,
        location_id=location_id,
        status="open",
        cursor=None,
        error=f"{what}: {refused.detail}",
        status_code=refused.page_status,
    )


@router.get("/warehouse")
async def warehouse(
    request: Request,
    console: ConsoleDep,
    person: WarehouseWorker,
    location_id: Annotated[str | None, Query(pattern=LOCATION)] = None,
    status: Status = "open",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    recorded: Annotated[
        Literal["picked", "packed", "shipped", "delivered", "received"] | None, Query()
    ] = None,
) -> Response:
    notice = f"Recorded {recorded}." if recorded else None
    return await _queue_page(
        request,
        console,
        person,
        location_id=location_id,
        status=status,
        cursor=cursor,
        notice=notice,
    )


@router.post("/warehouse/{location_id}/events")
async def record_event(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    location_id: str,
    event_id: Annotated[str, Form(max_length=100)],
    type: Annotated[Literal["picked", "packed", "shipped", "delivered"], Form()],
    shipment_id: Annotated[str, Form(max_length=36)],
    carrier: Annotated[str, Form(max_length=100)] = "",
    tracking_number: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if person.role not in (Role.WAREHOUSE, Role.ADMIN):
        raise NotYours(f"{person.username} ({person.role}) records no warehouse events")
    if not re.match(LOCATION, location_id):
        raise NotYours(f"no location {location_id}")
    body = {"event_id": event_id, "type": type, "shipment_id": shipment_id}
    if type == "shipped":
        body |= {"carrier": carrier.strip(), "tracking_number": tracking_number.strip()}
    try:
        await console.services.post(
            person, "fulfillment", f"/v1/warehouses/{location_id}/events", body
        )
    except Refused as refused:
        what = f"{type} {short_id(shipment_id)}"
        return await _refused(request, console, person, location_id, what, refused)
    return RedirectResponse(
        f"/warehouse?location_id={location_id}&recorded={type}", status_code=303
    )


@router.post("/warehouse/{location_id}/purchase-orders/{po_id}/receipts")
async def receive_goods(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    location_id: str,
    po_id: str,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
    sku: Annotated[list[str], Form()],
    quantity: Annotated[list[int], Form()],
) -> Response:
    """Book the goods that came in against a purchase order: each line's units as counted
    (lines left at 0 are not booked)."""
    if person.role not in (Role.WAREHOUSE, Role.ADMIN):
        raise NotYours(f"{person.username} ({person.role}) receives no goods")
    if not re.match(LOCATION, location_id) or not re.match(LOCATION, po_id):
        raise NotYours(f"no purchase order {po_id} at {location_id}")
    lines = [{"sku": s, "quantity": q} for s, q in zip(sku, quantity, strict=False) if q > 0]
    path = f"/v1/purchase-orders/{po_id}/receipts"
    try:
        if not lines:
            raise Refused("procurement", 422, "count at least one unit")
        await console.services.post(
            person, "procurement", path, {"lines": lines}, key=idempotency_key
        )
    except Refused as refused:
        what = f"receive {short_id(po_id)}"
        return await _refused(request, console, person, location_id, what, refused)
    return RedirectResponse(
        f"/warehouse?location_id={location_id}&recorded=received", status_code=303
    )
