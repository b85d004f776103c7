"""Procurement's pages: purchase orders by where they stand (approve, with the two-person rule in
view; send; confirm the supplier's date), replenishment suggestions with the numbers behind
them, and suppliers' scorecards. Receiving the goods is the warehouse's (the services'
permission tables say so)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, FormDep, NotYours, page_or_rows, render, role_in, short_id
from keel_contracts.roles import Role

router = APIRouter()

PO_ID = r"^[A-Za-z0-9_-]{1,64}$"
# Where a purchase order stands, as the page's tabs name it, and the action it waits for.
STAGES = {
    "draft": "waiting for approval",
    "approved": "to send",
    "sent": "waiting for the supplier's date",
    "confirmed": "waiting for the goods",
    "partially_received": "partly received",
}
Stage = Literal["draft", "approved", "sent", "confirmed", "partially_received"]
Action = Literal["approve", "send", "confirm"]
DONE = {"approve": "Approved", "send": "Sent", "confirm": "Confirmed", "run": "Ran replenishment"}
PurchaseReader = Annotated[SignedIn, Depends(role_in(Role.PROCUREMENT, Role.LEADERSHIP))]


async def _purchase_orders_page(
    request: Request,
    console: Any,
    person: SignedIn,
    *,
    status: Stage,
    cursor: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    page, refused = await console.services.read(
        person, "procurement", "/v1/purchase-orders", {"status": status, "cursor": cursor}
    )
    template = page_or_rows(request, "procurement.html", "_purchase_orders.html")
    return render(
        request,
        template,
        person,
        status_code=status_code,
        stages=STAGES,
        status=status,
        purchase_orders=(page or {}).get("items", []),
        next_cursor=(page or {}).get("next_cursor"),
        buyer=person.role in (Role.PROCUREMENT, Role.ADMIN),
        notice=notice,
        error=error or (f"procurement: {refused.detail}" if refused else None),
        today=date.today().isoformat(),
        idempotency_key=str(uuid.uuid4()),
    )


@router.get("/procurement")
async def purchase_orders(
    request: Request,
    console: ConsoleDep,
    person: PurchaseReader,
    status: Stage = "draft",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    done: Literal["approve", "send", "confirm", "run"] | None = None,
    po_id: Annotated[str | None, Query(pattern=PO_ID)] = None,
) -> Response:
    notice = f"{DONE[done]} {short_id(po_id) if po_id else ''}".strip() + "." if done else None
    return await _purchase_orders_page(
        request, console, person, status=status, cursor=cursor, notice=notice
    )


@router.post("/procurement/purchase-orders/{po_id}/{action}")
async def act(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    po_id: str,
    action: Action,
    stage: Annotated[Stage, Form()] = "draft",
    expected_date: Annotated[date | None, Form()] = None,
) -> Response:
    if person.role not in (Role.PROCUREMENT, Role.ADMIN):
        raise NotYours(f"{person.username} ({person.role}) does not buy")
    if not re.match(PO_ID, po_id):
        raise NotYours(f"no purchase order {po_id}")
    body = (
        {"expected_date": expected_date.isoformat()}
        if action == "confirm" and expected_date
        else None
    )
    try:
        await console.services.post(
            person, "procurement", f"/v1/purchase-orders/{po_id}/{action}", body
        )
    except Refused as refused:
        return await _purchase_orders_page(
            request,
            console,
            person,
            status=stage,
            error=f"{action} {short_id(po_id)}: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(
        f"/procurement?status={stage}&done={action}&po_id={po_id}", status_code=303
    )


@router.get("/procurement/suggestions")
async def suggestions(
    request: Request,
    console: ConsoleDep,
    person: PurchaseReader,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    ran: bool = False,
) -> Response:
    page, refused = await console.services.read(
        person, "procurement", "/v1/suggestions", {"cursor": cursor}
    )
    return render(
        request,
        "suggestions.html",
        person,
        suggestions=(page or {}).get("items", []),
        next_cursor=(page or {}).get("next_cursor"),
        buyer=person.role in (Role.PROCUREMENT, Role.ADMIN),
        notice="Ran replenishment: its suggestions are at the top." if ran else None,
        error=f"procurement: {refused.detail}" if refused else None,
        idempotency_key=str(uuid.uuid4()),
    )


@router.post("/procurement/replenishment-runs")
async def run_replenishment(
    console: ConsoleDep,
    person: FormDep,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    if person.role not in (Role.PROCUREMENT, Role.ADMIN):
        raise NotYours(f"{person.username} ({person.role}) does not buy")
    await console.services.post(
        person, "procurement", "/v1/replenishment-runs", None, key=idempotency_key
    )
    return RedirectResponse("/procurement/suggestions?ran=true", status_code=303)


@router.get("/procurement/suppliers")
async def suppliers(
    request: Request,
    console: ConsoleDep,
    person: PurchaseReader,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    page, refused = await console.services.read(
        person, "procurement", "/v1/suppliers", {"cursor": cursor}
    )
    return render(
        request,
        "suppliers.html",
        person,
        suppliers=(page or {}).get("items", []),
        next_cursor=(page or {}).get("next_cursor"),
        error=f"procurement: {refused.detail}" if refused else None,
    )
