"""The warehouse's returns page: returns authorized and waiting for their goods, each received at
the location as counted, and the returns received there waiting for inspection, each graded
A to D (returns' `GET /v1/returns`, `POST .../receipt` and `POST .../inspection`).

Each rendered form carries its own Idempotency-Key, so a form sent twice (a double click, a
resend after a dropped answer) records one receipt or one inspection.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.pages.warehouse import LOCATION, WarehouseWorker
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, FormDep, NotYours, render, short_id
from keel_contracts.roles import Role

router = APIRouter()

RETURN_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
# Each grade and where it sends the units, as the returns service grades them.
GRADES = (("A", "restock"), ("B", "refurbish"), ("C", "damaged"), ("D", "write off"))
Step = Literal["received", "inspected"]


async def _returns_page(
    request: Request,
    console: ConsoleDep,
    person: SignedIn,
    *,
    location_id: str | None,
    cursor: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    to_receive: list[dict[str, Any]] = []
    to_inspect: list[dict[str, Any]] = []
    next_cursor = None
    if location_id:
        # An authorized return may come back to any location: the whole company's are listed.
        params = {"status": "authorized", "cursor": cursor, "limit": 50}
        page, refused = await console.services.read(person, "returns", "/v1/returns", params)
        if refused is not None:
            error = error or f"returns: {refused.detail}"
        else:
            to_receive, next_cursor = page["items"], page["next_cursor"]
        # Those received here wait to be graded here (the first 100).
        params = {"status": "received", "location_id": location_id, "limit": 100}
        page, refused = await console.services.read(person, "returns", "/v1/returns", params)
        if refused is not None:
            error = error or f"returns: {refused.detail}"
        else:
            to_inspect = page["items"]
    return render(
        request,
        "warehouse_returns.html",
        person,
        status_code=status_code,
        location_id=location_id,
        to_receive=to_receive,
        to_inspect=to_inspect,
        grades=GRADES,
        # This render's own key: a form sent twice records its receipt or inspection once.
        idempotency_key=str(uuid.uuid4()),
        next_cursor=next_cursor,
        notice=notice,
        error=error,
    )


@router.get("/warehouse/returns")
async def returns(
    request: Request,
    console: ConsoleDep,
    person: WarehouseWorker,
    location_id: Annotated[str | None, Query(pattern=LOCATION)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    recorded: Step | None = None,
    return_id: Annotated[str | None, Query(pattern=RETURN_ID)] = None,
) -> Response:
    notice = None
    if recorded and return_id:
        done = "Received" if recorded == "received" else "Inspected"
        notice = f"{done} return {short_id(return_id)}."
    return await _returns_page(
        request, console, person, location_id=location_id, cursor=cursor, notice=notice
    )


async def _record(
    request: Request,
    console: ConsoleDep,
    person: SignedIn,
    *,
    location_id: str,
    return_id: str,
    step: Step,
    body: dict[str, Any],
    key: str,
) -> Response:
    """Send one step to returns as the person; the page again with its refusal if refused."""
    path = f"/v1/returns/{return_id}/{'receipt' if step == 'received' else 'inspection'}"
    try:
        if not body["lines"]:
            counted = "count" if step == "received" else "grade"
            raise Refused("returns", 422, f"{counted} at least one unit")
        await console.services.post(person, "returns", path, body, key=key)
    except Refused as refused:
        what = f"{'receive' if step == 'received' else 'inspect'} {short_id(return_id)}"
        return await _returns_page(
            request,
            console,
            person,
            location_id=location_id,
            error=f"{what}: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(
        f"/warehouse/returns?location_id={location_id}&recorded={step}&return_id={return_id}",
        status_code=303,
    )


def _check(person: SignedIn, location_id: str, return_id: str) -> None:
    if person.role not in (Role.WAREHOUSE, Role.ADMIN):
        raise NotYours(f"{person.username} ({person.role}) records no returned goods")
    if not re.match(LOCATION, location_id) or not re.match(RETURN_ID, return_id):
        raise NotYours(f"no return {return_id} at {location_id}")


@router.post("/warehouse/returns/{location_id}/{return_id}/receipt")
async def receive_return(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    location_id: str,
    return_id: str,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
    sku: Annotated[list[str], Form()],
    quantity: Annotated[list[int], Form()],
) -> Response:
    """Record the goods of a return that came in at the location: each SKU's units as counted
    (lines left at 0 are not sent; more than authorized is the service's to refuse)."""
    _check(person, location_id, return_id)
    lines = [{"sku": s, "quantity": q} for s, q in zip(sku, quantity, strict=False) if q > 0]
    body = {"location_id": location_id, "lines": lines}
    return await _record(
        request,
        console,
        person,
        location_id=location_id,
        return_id=return_id,
        step="received",
        body=body,
        key=idempotency_key,
    )


@router.post("/warehouse/returns/{location_id}/{return_id}/inspection")
async def inspect_return(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    location_id: str,
    return_id: str,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
    sku: Annotated[list[str], Form()],
    grade: Annotated[list[Literal["A", "B", "C", "D"]], Form()],
    quantity: Annotated[list[int], Form()],
) -> Response:
    """Grade a received return: each SKU's units per grade (grades left at 0 are not sent;
    that every received unit is graded is the service's to check)."""
    _check(person, location_id, return_id)
    lines = [
        {"sku": s, "quantity": q, "grade": g}
        for s, g, q in zip(sku, grade, quantity, strict=False)
        if q > 0
    ]
    return await _record(
        request,
        console,
        person,
        location_id=location_id,
        return_id=return_id,
        step="inspected",
        body={"lines": lines},
        key=idempotency_key,
    )
