"""Operations' page of stock adjustments waiting for approval (a count's variance or a person's
finding beyond tolerance, inventory's `/v1/adjustments`), each approved (applied to stock) or
rejected (stock left as it is) as the signed-in person. Nobody decides their own: the service
refuses it, and the page shows why instead of the buttons."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, FormDep, NotYours, page_or_rows, render, role_in, short_id
from keel_contracts.roles import Role

router = APIRouter()

ADJUSTMENT_ID = r"^[A-Za-z0-9_-]{1,64}$"  # inventory's ids go into its URL paths
Decision = Literal["approve", "reject"]
DONE = {"approve": "Approved", "reject": "Rejected"}
Approver = Annotated[SignedIn, Depends(role_in(Role.OPERATIONS))]


async def _adjustments_page(
    request: Request,
    console: Any,
    person: SignedIn,
    *,
    cursor: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    params = {"status": "pending_approval", "cursor": cursor, "limit": 50}
    page, refused = await console.services.read(person, "inventory", "/v1/adjustments", params)
    template = page_or_rows(request, "adjustments.html", "_adjustments.html")
    return render(
        request,
        template,
        person,
        status_code=status_code,
        adjustments=(page or {}).get("items", []),
        next_cursor=(page or {}).get("next_cursor"),
        # Each render's own keys: a form sent twice decides once.
        idempotency_key=str(uuid.uuid4()),
        notice=notice,
        error=error or (f"inventory: {refused.detail}" if refused else None),
    )


@router.get("/adjustments")
async def adjustments(
    request: Request,
    console: ConsoleDep,
    person: Approver,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    done: Decision | None = None,
    adjustment_id: Annotated[str | None, Query(pattern=ADJUSTMENT_ID)] = None,
) -> Response:
    notice = None
    if done and adjustment_id:
        notice = f"{DONE[done]} adjustment {short_id(adjustment_id)}."
    return await _adjustments_page(request, console, person, cursor=cursor, notice=notice)


@router.post("/adjustments/{adjustment_id}/{decision}")
async def decide(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    adjustment_id: str,
    decision: Decision,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    if person.role not in (Role.OPERATIONS, Role.ADMIN):
        raise NotYours(f"{person.username} ({person.role}) decides no adjustments")
    if not re.match(ADJUSTMENT_ID, adjustment_id):
        raise NotYours(f"no adjustment {adjustment_id}")
    try:
        await console.services.post(
            person,
            "inventory",
            f"/v1/adjustments/{adjustment_id}/{decision}",
            key=idempotency_key,
        )
    except Refused as refused:
        return await _adjustments_page(
            request,
            console,
            person,
            error=f"{decision} {short_id(adjustment_id)}: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(
        f"/adjustments?done={decision}&adjustment_id={adjustment_id}", status_code=303
    )
