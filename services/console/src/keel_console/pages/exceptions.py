"""The exception queue: every service's exceptions in one list, overdue first, with their SLA
clocks, and claim, unclaim and resolve for whoever may act on them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from keel_console.backends import Refused
from keel_console.sessions import SignedIn
from keel_console.web import ConsoleDep, FormDep, NotYours, page_or_rows, render, role_in
from keel_contracts.exception_queue import ExceptionItem
from keel_contracts.roles import Role

router = APIRouter()

# The services that own exceptions (inventory's join with the inventory governance issue).
SOURCES = ("order",)
# Who sees every role's exceptions; everyone else sees those their role owns.
SEE_ALL = frozenset({Role.OPERATIONS, Role.ADMIN, Role.LEADERSHIP})
# Who may act on an exception beside its owning role (the services decide; this only hides the
# buttons a person could not use).
OVERSEERS = frozenset({Role.OPERATIONS, Role.ADMIN})
NOTICES = {
    "claim": "Claimed {id}.",
    "unclaim": "Let {id} go back to the queue.",
    "resolve": "Resolved {id}.",
}
# What an exception id may look like here: it goes into a service's URL path.
EXCEPTION_ID = r"^[A-Za-z0-9_.:-]{1,80}$"
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
    console: Any, person: SignedIn, status: str, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None, list[str]]:
    """The rows to show, the next page's cursor and what could not be read."""
    params = {
        "status": status,
        "cursor": cursor,
        "limit": 50,
        "owner_role": None if person.role in SEE_ALL else person.role.value,
    }
    now = datetime.now(UTC)
    rows: list[tuple[ExceptionItem, str]] = []
    problems: list[str] = []
    next_cursor = None
    for service in SOURCES:
        page, refused = await console.services.read(person, service, "/v1/exceptions", params)
        if refused is not None:
            problems.append(f"{service}: {refused.detail}")
            continue
        rows += [(ExceptionItem.model_validate(i), service) for i in page["items"]]
        next_cursor = page["next_cursor"]
    # Overdue first, then the soonest due, then the most pressing.
    order = {"high": 0, "normal": 1, "low": 2}
    rows.sort(key=lambda r: (not r[0].overdue, r[0].due_at, order[r[0].priority]))
    shown = [
        {
            "item": item,
            "service": service,
            "clock": sla_clock(item, now),
            "may_act": may_act(person, item),
        }
        for item, service in rows
    ]
    return shown, next_cursor, problems


@router.get("/exceptions")
async def exceptions(
    request: Request,
    console: ConsoleDep,
    person: QueueReader,
    status: Literal["open", "resolved"] = "open",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    notice: Literal["claim", "unclaim", "resolve"] | None = None,
    exception_id: Annotated[str | None, Query(pattern=EXCEPTION_ID)] = None,
) -> Response:
    rows, next_cursor, problems = await _page(console, person, status, cursor)
    template = page_or_rows(request, "exceptions.html", "_exceptions.html")
    done = NOTICES[notice].format(id=exception_id) if notice and exception_id else None
    return render(
        request,
        template,
        person,
        rows=rows,
        status=status,
        next_cursor=next_cursor,
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
        rows, next_cursor, problems = await _page(console, person, "open", None)
        return render(
            request,
            "exceptions.html",
            person,
            status_code=refused.page_status,
            rows=rows,
            status="open",
            next_cursor=next_cursor,
            problems=problems,
            error=f"{action} {exception_id}: {refused.detail}",
        )
    return RedirectResponse(
        f"/exceptions?notice={action}&exception_id={exception_id}", status_code=303
    )
