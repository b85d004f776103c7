"""Cycle counts (inventory's `/v1/counts`): the open counts at a location, each counted blind by
the warehouse, a count's results once posted (each line's variance, and whether its adjustment
was applied or waits for operations' approval), and a count started for some SKUs at the
location by operations or the warehouse.

A count is blind while open: the page never shows what the ledger expects of an open count,
whatever a service answers (`blind`), so the counter reports what is on the shelf. Each rendered
form carries its own Idempotency-Key, so a form sent twice starts one count or posts one result.
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

COUNT_ID = r"^[A-Za-z0-9_-]{1,64}$"  # inventory's ids go into its URL paths
# Who may start a count, and who counts, as inventory's permission table has it.
STARTERS = frozenset({Role.OPERATIONS, Role.WAREHOUSE, Role.ADMIN})
COUNTERS = frozenset({Role.WAREHOUSE, Role.ADMIN})
# Inventory lists every location's counts: one look covers its largest page, kept to this one.
LOOK = 200
StockWorker = Annotated[SignedIn, Depends(role_in(Role.WAREHOUSE, Role.OPERATIONS))]


def blind(count: dict[str, Any]) -> dict[str, Any]:
    """The count as a page may show it: an open one's lines name their SKUs alone (nothing
    expected, nothing derived from it), whatever the service answered."""
    if count["status"] != "open":
        return count
    return {**count, "lines": [{"sku": line["sku"]} for line in count["lines"]], "adjustments": []}


def results(count: dict[str, Any]) -> list[dict[str, Any]]:
    """A counted count's lines, each with the adjustment its variance made (None: no variance)."""
    made = {adjustment["sku"]: adjustment for adjustment in count["adjustments"]}
    return [{**line, "adjustment": made.get(line["sku"])} for line in count["lines"]]


async def _counts_page(
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
    counts: list[dict[str, Any]] = []
    next_cursor = None
    if location_id:
        params = {"status": "open", "location_id": location_id, "limit": LOOK, "cursor": cursor}
        page, refused = await console.services.read(person, "inventory", "/v1/counts", params)
        if refused is not None:
            error = error or f"inventory: {refused.detail}"
        else:
            counts = [blind(c) for c in page["items"] if c["location_id"] == location_id]
            next_cursor = page["next_cursor"]
    return render(
        request,
        "warehouse_counts.html",
        person,
        status_code=status_code,
        location_id=location_id,
        counts=counts,
        next_cursor=next_cursor,
        may_start=person.role in STARTERS,
        may_count=person.role in COUNTERS,
        # This render's own key: a form sent twice starts one count or posts one result.
        idempotency_key=str(uuid.uuid4()),
        notice=notice,
        error=error,
    )


async def _count_page(
    request: Request,
    console: ConsoleDep,
    person: SignedIn,
    count_id: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    count = blind(await console.services.get(person, "inventory", f"/v1/counts/{count_id}"))
    return render(
        request,
        "warehouse_count.html",
        person,
        status_code=status_code,
        count=count,
        lines=results(count) if count["status"] != "open" else count["lines"],
        may_count=person.role in COUNTERS,
        idempotency_key=str(uuid.uuid4()),
        notice=notice,
        error=error,
    )


@router.get("/warehouse/counts")
async def counts(
    request: Request,
    console: ConsoleDep,
    person: StockWorker,
    location_id: Annotated[str | None, Query(pattern=LOCATION)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    started: Annotated[str | None, Query(pattern=COUNT_ID)] = None,
) -> Response:
    notice = f"Started count {short_id(started)}." if started else None
    return await _counts_page(
        request, console, person, location_id=location_id, cursor=cursor, notice=notice
    )


@router.get("/warehouse/counts/{count_id}")
async def count(
    request: Request,
    console: ConsoleDep,
    person: StockWorker,
    count_id: str,
    recorded: Literal["counted"] | None = None,
) -> Response:
    if not re.match(COUNT_ID, count_id):
        raise NotYours(f"no count {count_id}")
    notice = f"Posted count {short_id(count_id)}." if recorded else None
    return await _count_page(request, console, person, count_id, notice=notice)


@router.post("/warehouse/counts")
async def start_count(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    location_id: Annotated[str, Form(pattern=LOCATION)],
    skus: Annotated[str, Form(max_length=13_000)],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    """A count of the SKUs named (separated by commas, spaces or lines) at the location."""
    if person.role not in STARTERS:
        raise NotYours(f"{person.username} ({person.role}) starts no counts")
    named = list(dict.fromkeys(s for s in re.split(r"[\s,]+", skus) if s))  # once each
    try:
        if not named:
            raise Refused("inventory", 422, "name at least one SKU to count")
        started = await console.services.post(
            person,
            "inventory",
            "/v1/counts",
            {"location_id": location_id, "skus": named},
            key=idempotency_key,
        )
    except Refused as refused:
        return await _counts_page(
            request,
            console,
            person,
            location_id=location_id,
            error=f"start a count at {location_id}: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(
        f"/warehouse/counts?location_id={location_id}&started={started['count_id']}",
        status_code=303,
    )


@router.post("/warehouse/counts/{count_id}/results")
async def post_results(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    count_id: str,
    idempotency_key: Annotated[str, Form(min_length=1, max_length=100)],
    sku: Annotated[list[str], Form()],
    counted: Annotated[list[int], Form()],
) -> Response:
    """What was found on the shelf, every SKU of the count (0 is a count too)."""
    if person.role not in COUNTERS:
        raise NotYours(f"{person.username} ({person.role}) posts no counts")
    if not re.match(COUNT_ID, count_id):
        raise NotYours(f"no count {count_id}")
    lines = [{"sku": s, "counted": n} for s, n in zip(sku, counted, strict=False)]
    try:
        await console.services.post(
            person,
            "inventory",
            f"/v1/counts/{count_id}/results",
            {"lines": lines},
            key=idempotency_key,
        )
    except Refused as refused:
        return await _count_page(
            request,
            console,
            person,
            count_id,
            error=f"post count {short_id(count_id)}: {refused.detail}",
            status_code=refused.page_status,
        )
    return RedirectResponse(f"/warehouse/counts/{count_id}?recorded=counted", status_code=303)
