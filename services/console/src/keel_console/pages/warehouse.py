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
    next_cursor = None
    if location_id:
        try:
            page = await console.services.get(
                person,
                "fulfillment",
                f"/v1/warehouses/{location_id}/shipments",
                {"status": status, "cursor": cursor, "limit": 50},
            )
            shipments, next_cursor = page["items"], page["next_cursor"]
        except Refused as refused:
            error = error or f"fulfillment: {refused.detail}"
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
        next_cursor=next_cursor,
        notice=notice,
        error=error,
    )


@router.get("/warehouse")
async def warehouse(
    request: Request,
    console: ConsoleDep,
    person: WarehouseWorker,
    location_id: Annotated[str | None, Query(pattern=LOCATION)] = None,
    status: Status = "open",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    recorded: Annotated[Literal["picked", "packed", "shipped", "delivered"] | None, Query()] = None,
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
        return await _queue_page(
            request,
            console,
            person,
            location_id=location_id,
            status="open",
            cursor=None,
            error=f"{type} {short_id(shipment_id)}: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(
        f"/warehouse?location_id={location_id}&recorded={type}", status_code=303
    )
