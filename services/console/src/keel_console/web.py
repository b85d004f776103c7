"""What every page shares: who is signed in, the CSRF check, the role guard, rendering."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from keel_console import sessions
from keel_console.backends import Services
from keel_console.oidc import Provider
from keel_console.sessions import SessionRules, SignedIn
from keel_console.settings import Settings
from keel_contracts.roles import Role
from keel_kit.db import Database

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def short_id(identifier: str) -> str:
    """An id as a list shows it. Keel's ids are UUIDv7s, which begin with the time they were made
    (two made in one minute share their first characters), so their end tells them apart."""
    return identifier[-8:]


TEMPLATES.env.filters["short"] = short_id

# The pages each role works in, first its home. A role sees only its own pages and buttons;
# the services refuse anything else anyway, whatever a browser sends.
PAGES: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.OPERATIONS: (
        ("Exceptions", "/exceptions"),
        ("Orders", "/orders"),
        ("Adjustments", "/adjustments"),
        ("Counts", "/warehouse/counts"),
        ("Transfers", "/warehouse/transfers"),
        ("KPIs", "/leadership"),
    ),
    Role.CUSTOMER_SERVICE: (("Orders", "/orders"), ("Exceptions", "/exceptions")),
    Role.FINANCE: (
        ("Refunds", "/finance"),
        ("Exceptions", "/exceptions"),
        ("Books", "/finance/books"),
        ("Orders", "/orders"),
    ),
    Role.LEADERSHIP: (
        ("KPIs", "/leadership"),
        ("Exceptions", "/exceptions"),
        ("Orders", "/orders"),
        ("Refunds", "/finance"),
        ("Books", "/finance/books"),
        ("Purchase orders", "/procurement"),
        ("Suppliers", "/procurement/suppliers"),
    ),
    Role.ADMIN: (
        ("Exceptions", "/exceptions"),
        ("KPIs", "/leadership"),
        ("Orders", "/orders"),
        ("Shipments", "/warehouse"),
        ("Returns", "/warehouse/returns"),
        ("Counts", "/warehouse/counts"),
        ("Transfers", "/warehouse/transfers"),
        ("Adjustments", "/adjustments"),
        ("Refunds", "/finance"),
        ("Books", "/finance/books"),
        ("Purchase orders", "/procurement"),
    ),
    Role.WAREHOUSE: (
        ("Shipments", "/warehouse"),
        ("Returns", "/warehouse/returns"),
        ("Counts", "/warehouse/counts"),
        ("Transfers", "/warehouse/transfers"),
    ),
    Role.PROCUREMENT: (
        ("Purchase orders", "/procurement"),
        ("Suggestions", "/procurement/suggestions"),
        ("Suppliers", "/procurement/suppliers"),
    ),
}


@dataclass
class Console:
    """The running console: its settings, its own database and the services' APIs."""

    settings: Settings
    database: Database
    services: Services
    provider: Provider | None = None  # the company's OIDC provider, when people sign in there

    @property
    def session_rules(self) -> SessionRules:
        return SessionRules(
            idle=timedelta(minutes=self.settings.session_idle_minutes),
            longest=timedelta(hours=self.settings.session_max_hours),
        )


REFRESH_HEADER = "X-Keel-Refresh"


class SignInRequired(Exception):
    """No live session: the browser is sent to the sign-in page."""


class NotYours(Exception):
    """A page or action outside the person's role: a 403 page."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class BadForm(Exception):
    """A form post without its session's CSRF token: refused, nothing done."""


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(console_of)]


async def signed_in(request: Request, console: ConsoleDep) -> SignedIn:
    secret = request.cookies.get(sessions.COOKIE)
    async with console.database.transaction() as session:
        person = await sessions.find(
            session, secret, rules=console.session_rules, now=datetime.now(UTC)
        )
    if person is None:
        raise SignInRequired
    return person


PersonDep = Annotated[SignedIn, Depends(signed_in)]


def role_in(*roles: Role) -> Callable[[SignedIn], Coroutine[Any, Any, SignedIn]]:
    """A dependency letting in only the roles named (and admin)."""
    allowed = frozenset(roles) | {Role.ADMIN}

    async def check(person: PersonDep) -> SignedIn:
        if person.role not in allowed:
            raise NotYours(f"{person.username} ({person.role}) has no such page")
        return person

    return check


async def form_of(person: PersonDep, csrf_token: Annotated[str | None, Form()] = None) -> SignedIn:
    """The person posting a form, once the form carries their session's CSRF token."""
    if not person.csrf_matches(csrf_token):
        raise BadForm
    return person


FormDep = Annotated[SignedIn, Depends(form_of)]


def render(
    request: Request,
    template: str,
    person: SignedIn | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    console = console_of(request)
    pages = PAGES.get(person.role, ()) if person else ()
    path = request.url.path
    # The page a person is on: the longest of their pages' addresses the path starts with.
    current = max(
        (href for _, href in pages if path == href or path.startswith(href + "/")),
        key=len,
        default=None,
    )
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "person": person,
            "pages": pages,
            "current": current,
            "refresh_seconds": console.settings.refresh_seconds,
            **context,
        },
        status_code=status_code,
    )


def page_or_rows(request: Request, page: str, rows: str) -> str:
    """The template to answer with: a queue's rows alone when its page's script refreshes them
    (the X-Keel-Refresh header, see static/console.js), else the whole page."""
    return rows if request.headers.get(REFRESH_HEADER) else page


def home_of(role: Role) -> str:
    """A person's first page: the work waiting for their role."""
    return PAGES[role][0][1]
