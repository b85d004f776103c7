"""Finance's pages: refunds waiting for an approver (approved here, as the signed-in person),
and the books: trial balance, margins by channel, the inventory reconciliation and an order's
or a receipt's journal entries. Payment holds are in the exception queue."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, FormDep, NotYours, page_or_rows, render, role_in, short_id
from keel_contracts.roles import Role

router = APIRouter()

IDENTIFIER = r"^[A-Za-z0-9_.:-]{1,64}$"
FinanceReader = Annotated[SignedIn, Depends(role_in(Role.FINANCE, Role.LEADERSHIP))]


async def _read(
    console: Any, person: SignedIn, service: str, path: str, params: dict[str, Any] | None = None
) -> tuple[Any, str | None]:
    """A service's answer, or None and what it said instead."""
    answer, refused = await console.services.read(person, service, path, params)
    return answer, f"{service}: {refused.detail}" if refused else None


async def _refunds_page(
    request: Request,
    console: Any,
    person: SignedIn,
    *,
    cursor: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    params = {"status": "pending_approval", "cursor": cursor}
    page, read_error = await _read(console, person, "returns", "/v1/refunds", params)
    template = page_or_rows(request, "finance.html", "_refunds.html")
    return render(
        request,
        template,
        person,
        status_code=status_code,
        refunds=(page or {}).get("items", []),
        next_cursor=(page or {}).get("next_cursor"),
        error=error or read_error,
        notice=notice,
        may_approve=person.role in (Role.FINANCE, Role.ADMIN),
        # Each render's own keys: a form sent twice approves once and answers the same.
        idempotency_key=str(uuid.uuid4()),
    )


@router.get("/finance")
async def refunds(
    request: Request,
    console: ConsoleDep,
    person: FinanceReader,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    approved: Annotated[str | None, Query(pattern=IDENTIFIER)] = None,
) -> Response:
    notice = f"Approved refund {short_id(approved)}." if approved else None
    return await _refunds_page(request, console, person, cursor=cursor, notice=notice)


@router.post("/finance/refunds/{refund_id}/approve")
async def approve(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    refund_id: str,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    if person.role not in (Role.FINANCE, Role.ADMIN):
        raise NotYours(f"{person.username} ({person.role}) approves no refunds")
    if not re.match(IDENTIFIER, refund_id):
        raise NotYours(f"no refund {refund_id}")
    try:
        await console.services.post(
            person, "returns", f"/v1/refunds/{refund_id}/approve", None, key=idempotency_key
        )
    except Refused as refused:
        return await _refunds_page(
            request,
            console,
            person,
            error=f"approve {short_id(refund_id)}: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(f"/finance?approved={refund_id}", status_code=303)


@router.get("/finance/books")
async def books(
    request: Request,
    console: ConsoleDep,
    person: FinanceReader,
    source_id: Annotated[str | None, Query(pattern=IDENTIFIER)] = None,
) -> Response:
    trial, trial_error = await _read(console, person, "finance", "/v1/trial-balance")
    margins, margins_error = await _read(console, person, "finance", "/v1/margins")
    reconciliation, reconciliation_error = await _read(
        console, person, "finance", "/v1/reconciliation/inventory"
    )
    journal, journal_error = (None, None)
    if source_id:
        journal, journal_error = await _read(
            console, person, "finance", "/v1/journal", {"source_id": source_id}
        )
    return render(
        request,
        "books.html",
        person,
        trial=trial,
        margins=(margins or {}).get("channels", []),
        reconciliation=reconciliation,
        source_id=source_id,
        journal=journal or [],
        errors=[e for e in (trial_error, margins_error, reconciliation_error, journal_error) if e],
    )
