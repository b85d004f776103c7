"""Signing in with a local password, and out.

The sign-in form has no session to carry a CSRF token yet, so it carries a one-off value that
must equal a cookie set with the form (double submit): another site cannot read the cookie, so
it cannot sign a browser in as someone else.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from keel_console import accounts, sessions
from keel_console.web import ConsoleDep, FormDep, console_of, home_of, render
from keel_contracts.roles import Role

router = APIRouter()

SIGNIN_COOKIE = "keel_console_signin"
WRONG = (
    f"Wrong name or password. After {accounts.MAX_FAILED_SIGNINS} wrong passwords in a row a "
    f"name is locked for {accounts.LOCKOUT.seconds // 60} minutes."
)


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    samesite: Literal["strict", "lax"] = "strict",
    max_age: int | None = None,
) -> None:
    """A cookie no script can read and no other site can send: HttpOnly, SameSite=Strict
    (Lax only where the browser must bring it back from another site), Secure over https."""
    secure = request.url.scheme == "https" or console_of(request).settings.secure_cookies
    response.set_cookie(
        name, value, httponly=True, samesite=samesite, secure=secure, path="/", max_age=max_age
    )


def _form(request: Request, *, error: str | None = None, status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "signin.html",
        None,
        status_code=status_code,
        signin_token=token,
        error=error,
        company=console_of(request).provider is not None,
    )
    set_cookie(request, response, SIGNIN_COOKIE, token)
    return response


@router.get("/signin", response_class=HTMLResponse)
async def signin_page(request: Request) -> Response:
    return _form(request)


@router.post("/signin")
async def signin(
    request: Request,
    console: ConsoleDep,
    username: Annotated[str, Form(max_length=accounts.MAX_NAME_LENGTH)] = "",
    password: Annotated[str, Form(max_length=accounts.MAX_PASSWORD_LENGTH)] = "",
    signin_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if console.provider is not None:
        detail = "People sign in with the company's account here, not a local password."
        return _form(request, error=detail, status_code=403)
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, signin_token):
        return _form(request, error="The form had expired; please sign in again.", status_code=403)
    async with console.database.transaction() as session:
        now = datetime.now(UTC)
        user = await accounts.authenticate(session, username.strip(), password, now=now)
        if user is None:
            return _form(request, error=WRONG, status_code=401)
        secret = await sessions.start(
            session,
            username=user.username,
            role=user.role,
            rules=console.session_rules,
            now=now,
        )
    response = RedirectResponse(home_of(Role(user.role)), status_code=303)
    set_cookie(request, response, sessions.COOKIE, secret)
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout")
async def signout(request: Request, console: ConsoleDep, _person: FormDep) -> Response:
    async with console.database.transaction() as session:
        await sessions.end(session, request.cookies.get(sessions.COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
