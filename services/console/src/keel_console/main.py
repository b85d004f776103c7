"""`create_app(settings)`: the console's pages, its own small database and the services' APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from keel_console.backends import TIMEOUT, Refused, Services
from keel_console.db import open_database
from keel_console.oidc import Provider
from keel_console.pages import (
    adjustments,
    company_signin,
    exceptions,
    finance,
    home,
    leadership,
    order_actions,
    orders,
    procurement,
    signin,
    warehouse,
    warehouse_counts,
    warehouse_returns,
    warehouse_transfers,
)
from keel_console.settings import Settings
from keel_console.web import (
    REFRESH_HEADER,
    BadForm,
    Console,
    NotYours,
    SignInRequired,
    render,
)

# Every script, style and image comes from the console itself; no page may be framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The console; `transport` stands in for the network (the services and the identity
    provider) in tests."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = await open_database(settings.resolved_database_url())
        services = Services(settings, transport)
        async with httpx.AsyncClient(timeout=TIMEOUT, transport=transport) as http:
            provider = Provider(settings, http) if settings.oidc_issuer else None
            app.state.console = Console(settings, database, services, provider)
            try:
                yield
            finally:
                await services.close()
                await database.dispose()

    app = FastAPI(title="Keel console", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for page in (
        signin,
        company_signin,
        home,
        exceptions,
        orders,
        order_actions,
        warehouse,
        warehouse_returns,
        warehouse_counts,
        warehouse_transfers,
        adjustments,
        finance,
        procurement,
        leadership,
    ):
        app.include_router(page.router)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages show one person's work
        return response

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _error: SignInRequired) -> Response:
        if request.headers.get(REFRESH_HEADER):
            return Response(status_code=401)  # the refreshing script reloads the whole page
        return RedirectResponse("/signin", status_code=303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, refused: Refused) -> Response:
        # A page that has no better place to show a service's refusal (its own page shown
        # again with the message) shows it on its own, never as a 500.
        detail = f"{refused.service}: {refused.detail}"
        return render(
            request, "problem.html", None, status_code=refused.page_status, title="Refused",
            detail=detail,
        )  # fmt: skip

    @app.exception_handler(NotYours)
    async def _not_yours(request: Request, error: NotYours) -> Response:
        return render(
            request, "problem.html", None, status_code=403, title="Not yours", detail=error.what
        )

    @app.exception_handler(BadForm)
    async def _bad_form(request: Request, _error: BadForm) -> Response:
        detail = "The form did not come from this console (its CSRF token is missing or stale)."
        return render(
            request, "problem.html", None, status_code=403, title="Refused", detail=detail
        )

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready")
    async def ready(request: Request) -> Response:
        try:
            await request.app.state.console.database.ping()
        except Exception as error:  # any failure means not ready
            return JSONResponse({"status": "unavailable", "detail": str(error)}, 503)
        return JSONResponse({"status": "ok"})

    return app
