"""Transfers between locations (inventory's `/v1/transfers`): operations approves the requested
ones and requests more; the warehouse ships the approved ones out of its location and receives,
as counted, the shipped ones coming to it (a short count leaves the rest in transit).

Each rendered form carries its own Idempotency-Key, so a form sent twice requests one transfer
or books one receipt (approving or shipping twice is refused: the transfer moved on).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.pages.warehouse import LOCATION
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, FormDep, NotYours, render, role_in, short_id
from keel_contracts.roles import Role

router = APIRouter()

TRANSFER_ID = r"^[A-Za-z0-9_-]{1,64}$"  # inventory's ids go into its URL paths
# Who requests and approves transfers, and who moves the goods, as inventory's permission
# table has it.
DECIDERS = frozenset({Role.OPERATIONS, Role.ADMIN})
MOVERS = frozenset({Role.WAREHOUSE, Role.ADMIN})
Action = Literal["approve", "ship", "receive"]
DONE = {"request": "Requested", "approve": "Approved", "ship": "Shipped", "receive": "Received"}
# Inventory lists every location's transfers: one look covers its largest page.
LOOK = 200
TransferWorker = Annotated[SignedIn, Depends(role_in(Role.WAREHOUSE, Role.OPERATIONS))]


async def _read(
    console: Any,
    person: SignedIn,
    status: str,
    errors: list[str],
    cursor: str | None = None,
    **where: str,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the transfers in `status` (and `where`: from or to a location), empty with
    its refusal in `errors` when refused."""
    params = {"status": status, **where, "limit": LOOK, "cursor": cursor}
    page, refused = await console.services.read(person, "inventory", "/v1/transfers", params)
    if refused is not None:
        errors.append(f"inventory: {refused.detail}")
        return [], None
    return page["items"], page["next_cursor"]


async def _transfers_page(
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
    errors = [error] if error else []
    requested: list[dict[str, Any]] = []
    to_ship: list[dict[str, Any]] = []
    to_receive: list[dict[str, Any]] = []
    next_cursor = None
    looked_past = False  # more than one look holds: some at the location may not be listed
    if person.role in DECIDERS:
        requested, next_cursor = await _read(console, person, "requested", errors, cursor)
    if location_id and person.role in MOVERS:
        approved, more = await _read(
            console, person, "approved", errors, from_location_id=location_id
        )
        to_ship = [t for t in approved if t["from_location_id"] == location_id]
        looked_past = more is not None
        for status in ("shipped", "partially_received"):
            coming, more = await _read(console, person, status, errors, to_location_id=location_id)
            to_receive += [t for t in coming if t["to_location_id"] == location_id]
            looked_past = looked_past or more is not None
    return render(
        request,
        "warehouse_transfers.html",
        person,
        status_code=status_code,
        location_id=location_id,
        requested=requested,
        to_ship=to_ship,
        to_receive=to_receive,
        next_cursor=next_cursor,
        looked_past=looked_past,
        look=LOOK,
        may_decide=person.role in DECIDERS,
        may_move=person.role in MOVERS,
        # This render's own key: a form sent twice requests or receives once.
        idempotency_key=str(uuid.uuid4()),
        notice=notice,
        error="; ".join(errors) or None,
    )


@router.get("/warehouse/transfers")
async def transfers(
    request: Request,
    console: ConsoleDep,
    person: TransferWorker,
    location_id: Annotated[str | None, Query(pattern=LOCATION)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    done: Literal["request", "approve", "ship", "receive"] | None = None,
    transfer_id: Annotated[str | None, Query(pattern=TRANSFER_ID)] = None,
) -> Response:
    notice = f"{DONE[done]} transfer {short_id(transfer_id)}." if done and transfer_id else None
    return await _transfers_page(
        request, console, person, location_id=location_id, cursor=cursor, notice=notice
    )


def _back(location_id: str | None, done: str, transfer_id: str) -> RedirectResponse:
    at = f"location_id={location_id}&" if location_id else ""
    return RedirectResponse(
        f"/warehouse/transfers?{at}done={done}&transfer_id={transfer_id}", status_code=303
    )


@router.post("/warehouse/transfers")
async def request_transfer(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
    sku: Annotated[str, Form(max_length=64)],
    from_location_id: Annotated[str, Form(pattern=LOCATION)],
    to_location_id: Annotated[str, Form(pattern=LOCATION)],
    quantity: Annotated[int, Form()],
    location_id: Annotated[str | None, Form(pattern=LOCATION)] = None,
) -> Response:
    """Ask for units of a SKU to move between two locations; it waits for approval."""
    if person.role not in DECIDERS:
        raise NotYours(f"{person.username} ({person.role}) requests no transfers")
    body = {
        "sku": sku.strip(),
        "from_location_id": from_location_id,
        "to_location_id": to_location_id,
        "quantity": quantity,
    }
    try:
        made = await console.services.post(
            person, "inventory", "/v1/transfers", body, key=idempotency_key
        )
    except Refused as refused:
        return await _transfers_page(
            request,
            console,
            person,
            location_id=location_id,
            error=f"request a transfer: {refused.detail}",
            status_code=refused.page_status,
        )
    return _back(location_id, "request", made["transfer_id"])


@router.post("/warehouse/transfers/{transfer_id}/{action}")
async def act(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    transfer_id: str,
    action: Action,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
    location_id: Annotated[str | None, Form(pattern=LOCATION)] = None,
    quantity: Annotated[int | None, Form()] = None,
) -> Response:
    """Approve a requested transfer (operations), ship an approved one or receive a shipped
    one's units as counted (the warehouse)."""
    allowed = DECIDERS if action == "approve" else MOVERS
    if person.role not in allowed:
        raise NotYours(f"{person.username} ({person.role}) may not {action} transfers")
    if not re.match(TRANSFER_ID, transfer_id):
        raise NotYours(f"no transfer {transfer_id}")
    body = {"quantity": quantity} if action == "receive" else None
    try:
        if action == "receive" and not quantity:
            raise Refused("inventory", 422, "count at least one unit")
        await console.services.post(
            person,
            "inventory",
            f"/v1/transfers/{transfer_id}/{action}",
            body,
            key=idempotency_key,
        )
    except Refused as refused:
        return await _transfers_page(
            request,
            console,
            person,
            location_id=location_id,
            error=f"{action} {short_id(transfer_id)}: {refused.detail}",
            status_code=refused.page_status,
        )
    return _back(location_id, action, transfer_id)
