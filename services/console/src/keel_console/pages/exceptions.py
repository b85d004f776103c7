"""The exception queue: every service's exceptions in one list, overdue first, with their SLA
clocks, and claim, unclaim and resolve for whoever may act on them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, FormDep, NotYours, page_or_rows, render, role_in
from keel_contracts.exception_queue import OVERSEERS, ExceptionItem
from keel_contracts.roles import Role

router = APIRouter()

# The services that own exceptions, each answering the shared shape (keel_contracts.exception_
# queue); an exception that is not about an order names what it is about in `reference`.
SOURCES = ("order", "inventory")
# Who sees every role's exceptions; everyone else sees those their role owns.
SEE_ALL = frozenset({Role.OPERATIONS, Role.ADMIN, Role.LEADERSHIP})
NOTICES = {
    "claim": "Claimed {id}.",
    "unclaim": "Let {id} go back to the queue.",
    "resolve": "Resolved {id}.",
}
# What an exception id may look like here: it goes into a service's URL path.
EXCEPTION_ID = r"^[A-Za-z0-9_.:-]{1,80}$"
# What each decision does to an exception about something other than an order's hold, by type.
DECISIONS = {
    "count_discrepancy": ("approve the adjustment", "reject the adjustment"),
    "adjustment_approval": ("approve the adjustment", "reject the adjustment"),
    "transfer_discrepancy": ("write off what never came", "keep waiting for the missing units"),
}
Cursor = Annotated[str | None, Query(max_length=200)]
QueueReader = Annotated[
    SignedIn,
    Depends(role_in(Role.OPERATIONS, Role.CUSTOMER_SERVICE, Role.FINANCE, Role.LEADERSHIP)),
]


def sla_clock(item: ExceptionItem, now: datetime) -> str:
    """How long until the exception is due, or how long it has been overdue, in words."""
    if item.resolved_at is not None:
        return "resolved late" if item.overdue else "resolved in time"
    seconds = int((item.due_at - now).total_seconds())
    words = _duration(abs(seconds))
    return f"overdue by {words}" if seconds < 0 else f"due in {words}"


def _duration(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def may_act(person: SignedIn, item: ExceptionItem) -> bool:
    return item.resolved_at is None and (person.role == item.owner_role or person.role in OVERSEERS)


async def _page(
    console: Any, person: SignedIn, status: str, cursors: dict[str, str]
) -> tuple[list[dict[str, Any]], str | None, list[str]]:
    """The rows to show, the next page's address and what could not be read. The first page
    reads every source; a later one only the sources that had more (`cursors`)."""
    owner_role = None if person.role in SEE_ALL else person.role.value
    params = {"status": status, "limit": 50, "owner_role": owner_role}
    now = datetime.now(UTC)
    rows: list[tuple[ExceptionItem, str]] = []
    problems: list[str] = []
    more: dict[str, str] = {}
    for service in [s for s in SOURCES if s in cursors] if cursors else SOURCES:
        query = {**params, "cursor": cursors.get(service)}
        page, refused = await console.services.read(person, service, "/v1/exceptions", query)
        if refused is not None:
            problems.append(f"{service}: {refused.detail}")
            continue
        items = [ExceptionItem.model_validate(i) for i in page["items"]]
        # A queue may not sort by owner itself (inventory's does not): another role's
        # exceptions are left out here all the same.
        rows += [(i, service) for i in items if owner_role in (None, i.owner_role)]
        if page["next_cursor"]:
            more[service] = page["next_cursor"]
    # Overdue first, then the soonest due, then the most pressing.
    order = {"high": 0, "normal": 1, "low": 2}
    rows.sort(key=lambda r: (not r[0].overdue, r[0].due_at, order[r[0].priority]))
    shown = [
        {
            "item": item,
            "service": service,
            "clock": sla_clock(item, now),
            "may_act": may_act(person, item),
            "decisions": DECISIONS.get(item.type),
        }
        for item, service in rows
    ]
    following = {f"{service}_cursor": cursor for service, cursor in more.items()}
    next_page = f"/exceptions?{urlencode({'status': status, **following})}" if more else None
    return shown, next_page, problems


@router.get("/exceptions")
async def exceptions(
    request: Request,
    console: ConsoleDep,
    person: QueueReader,
    status: Literal["open", "resolved"] = "open",
    # Where each source's next page starts (one per SOURCES): a queue's cursor is its own.
    order_cursor: Cursor = None,
    inventory_cursor: Cursor = None,
    notice: Literal["claim", "unclaim", "resolve"] | None = None,
    exception_id: Annotated[str | None, Query(pattern=EXCEPTION_ID)] = None,
) -> Response:
    cursors = {"order": order_cursor, "inventory": inventory_cursor}
    rows, next_page, problems = await _page(
        console, person, status, {s: c for s, c in cursors.items() if c}
    )
    template = page_or_rows(request, "exceptions.html", "_exceptions.html")
    done = NOTICES[notice].format(id=exception_id) if notice and exception_id else None
    return render(
        request,
        template,
        person,
        rows=rows,
        status=status,
        next_page=next_page,
        problems=problems,
        notice=done,
    )


@router.post("/exceptions/{service}/{exception_id}/{action}")
async def act(
    request: Request,
    console: ConsoleDep,
    person: FormDep,
    service: str,
    exception_id: str,
    action: Literal["claim", "unclaim", "resolve"],
    decision: Annotated[Literal["release", "reject"] | None, Form()] = None,
    note: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    if service not in SOURCES or not re.match(EXCEPTION_ID, exception_id) or ".." in exception_id:
        raise NotYours(f"no exception {exception_id} at {service}")
    body = {"decision": decision, "note": note} if action == "resolve" else None
    try:
        await console.services.post(
            person, service, f"/v1/exceptions/{exception_id}/{action}", body
        )
    except Refused as refused:
        rows, next_page, problems = await _page(console, person, "open", {})
        return render(
            request,
            "exceptions.html",
            person,
            status_code=refused.page_status,
            rows=rows,
            status="open",
            next_page=next_page,
            problems=problems,
            error=f"{action} {exception_id}: {refused.detail}",
        )
    return RedirectResponse(
        f"/exceptions?notice={action}&exception_id={exception_id}", status_code=303
    )
