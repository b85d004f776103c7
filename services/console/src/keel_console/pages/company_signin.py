"""Signing in with the company's account (`keel_console.oidc`): off to the provider, and back.

The way back ends on a page of the console's own that moves on to the person's home: the
session cookie is SameSite=Strict, and a browser does not send such a cookie on a redirect that
began at another site, so the home page is reached by a step that begins here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from keel_console import oidc, sessions
from keel_console.oidc import Provider, SignInFailed, Trip
from keel_console.pages.signin import set_cookie
from keel_console.web import ConsoleDep, NotYours, home_of, render

router = APIRouter()


def _provider(console: ConsoleDep) -> Provider:
    if console.provider is None:
        raise NotYours("this console signs people in with local passwords")
    return console.provider


def _callback_url(request: Request, console: ConsoleDep) -> str:
    return console.settings.oidc_redirect_url or str(request.url_for("company_callback"))


@router.get("/signin/oidc")
async def company_signin(request: Request, console: ConsoleDep) -> Response:
    try:
        url, trip = await _provider(console).start(_callback_url(request, console))
    except SignInFailed as failed:
        return render(request, "problem.html", None, status_code=502, title="Cannot sign in",
                      detail=str(failed))  # fmt: skip
    response = RedirectResponse(url, status_code=303)
    # Lax: the browser brings it back on the provider's redirect, a navigation from its site.
    set_cookie(
        request, response, oidc.COOKIE, trip.cookie(), samesite="lax",
        max_age=oidc.COOKIE_SECONDS,
    )  # fmt: skip
    return response


@router.get("/signin/oidc/callback", name="company_callback")
async def company_callback(
    request: Request,
    console: ConsoleDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    provider = _provider(console)
    try:
        if error or not code:
            raise SignInFailed(f"the identity provider did not sign you in ({error or 'no code'})")
        signed = await provider.finish(
            code=code,
            state=state,
            trip=Trip.from_cookie(request.cookies.get(oidc.COOKIE)),
            redirect_uri=_callback_url(request, console),
        )
    except SignInFailed as failed:
        response = render(request, "problem.html", None, status_code=401, title="Not signed in",
                          detail=str(failed))  # fmt: skip
        response.delete_cookie(oidc.COOKIE, path="/")
        return response
    async with console.database.transaction() as session:
        secret = await sessions.start(
            session,
            username=signed.subject,
            role=signed.role,
            rules=console.session_rules,
            now=datetime.now(UTC),
            access_token=signed.access_token,
            token_expires_at=datetime.fromtimestamp(signed.expires_at, UTC),
        )
    response = render(request, "signed_in.html", None, home=home_of(signed.role))
    set_cookie(request, response, sessions.COOKIE, secret)
    response.delete_cookie(oidc.COOKIE, path="/")
    return response
