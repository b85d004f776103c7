"""What customer service (and operations) do from an order's page: cancel it, or authorize a
return of what shipped. The order and returns services decide; a refusal is shown on the page
as they gave it."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.pages.orders import ORDER_DESK, ORDER_ID, order_page
from keel_console.web import ConsoleDep, FormDep, NotYours

router = APIRouter()


def _at_the_desk(person_role: str, username: str, order_id: str) -> None:
    if person_role not in ORDER_DESK:
        raise NotYours(f"{username} ({person_role}) neither cancels orders nor takes returns")
    if not re.match(ORDER_ID, order_id):
        raise NotYours(f"no order {order_id}")


@router.post("/orders/{order_id}/cancel")
async def cancel(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    order_id: str,
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    _at_the_desk(person.role, person.username, order_id)
    try:
        await console.services.post(
            person, "order", f"/v1/orders/{order_id}/cancel", {"reason": reason.strip()}
        )
    except Refused as refused:
        return await order_page(
            request,
            console,
            person,
            order_id,
            error=f"cancel: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(f"/orders/{order_id}?done=cancelled", status_code=303)


@router.post("/orders/{order_id}/returns")
async def authorize_return(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    order_id: str,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
    reason: Annotated[str, Form(min_length=1, max_length=200)],
    sku: Annotated[list[str], Form()],
    quantity: Annotated[list[int], Form()],
) -> Response:
    """A return of the units asked for on each line (lines left at 0 are not returned)."""
    _at_the_desk(person.role, person.username, order_id)
    lines = [
        {"sku": s, "quantity": q, "reason": reason.strip()}
        for s, q in zip(sku, quantity, strict=False)
        if q > 0
    ]
    if not lines:
        return await order_page(
            request,
            console,
            person,
            order_id,
            error="return: ask for at least one unit",
            status_code=422,
        )
    body = {"order_id": order_id, "lines": lines}
    try:
        await console.services.post(person, "returns", "/v1/returns", body, key=idempotency_key)
    except Refused as refused:
        return await order_page(
            request,
            console,
            person,
            order_id,
            error=f"return: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(f"/orders/{order_id}?done=return", status_code=303)
