"""Service tests of signing in: argon2 passwords, the session cookie's flags, CSRF on every
form, sessions that end, and each role kept to its own pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlmodel import select, update

from console_harness import PASSWORD, Console, running_console
from keel_console.db import open_database
from keel_console.models import ConsoleSession, ConsoleUser
from keel_console.sessions import COOKIE

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        await console.add_user("ann", "operations")
        await console.add_user("walt", "warehouse")
        yield console


async def test_a_person_signs_in_and_lands_on_their_queue(console: Console) -> None:
    console.services.answers[("GET", "/v1/exceptions")] = {"items": [], "next_cursor": None}
    response = await console.sign_in("ann")
    assert response.status_code == 303
    assert response.headers["location"] == "/exceptions"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http locally; Secure over https

    page = await console.client.get("/exceptions")
    assert page.status_code == 200
    assert "nothing is waiting for you" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert [c["service"] for c in console.services.calls] == ["order", "inventory"]
    for call in console.services.calls:
        assert (call["claims"]["sub"], call["claims"]["role"]) == ("ann", "operations")
        assert call["claims"]["exp"] - call["claims"]["iat"] == 600  # a short-lived token


async def test_only_a_hash_of_the_password_and_the_session_is_kept(console: Console) -> None:
    await console.sign_in("ann")
    database = await open_database(console.settings.resolved_database_url())
    async with database.transaction() as session:
        user = await session.get(ConsoleUser, "ann")
        (row,) = (await session.exec(select(ConsoleSession))).all()
    await database.dispose()
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert row.secret_hash != console.client.cookies[COOKIE]


@pytest.mark.parametrize(("name", "password"), [("ann", "wrong password!"), ("nobody", PASSWORD)])
async def test_a_wrong_name_or_password_is_refused_alike(
    console: Console, name: str, password: str
) -> None:
    response = await console.sign_in(name, password)
    assert response.status_code == 401
    assert "Wrong name or password." in response.text
    assert COOKIE not in console.client.cookies
    assert (await console.client.get("/exceptions")).status_code == 303  # back to sign-in


async def test_a_sign_in_form_from_elsewhere_is_refused(console: Console) -> None:
    response = await console.client.post(
        "/signin", data={"username": "ann", "password": PASSWORD, "signin_token": "forged"}
    )
    assert response.status_code == 403
    assert COOKIE not in console.client.cookies


async def test_a_form_without_the_sessions_csrf_token_is_refused(console: Console) -> None:
    console.services.answers[("POST", "/v1/exceptions/hold-1/claim")] = {}
    await console.sign_in("ann")
    for token in (None, "forged"):
        data = {"csrf_token": token} if token else {}
        response = await console.client.post("/exceptions/order/hold-1/claim", data=data)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert console.services.calls == []  # nothing reached a service

    token = await console.csrf()
    done = await console.client.post("/exceptions/order/hold-1/claim", data={"csrf_token": token})
    assert done.status_code == 303
    assert console.services.calls[-1]["url"].path == "/v1/exceptions/hold-1/claim"


async def test_a_role_never_reaches_another_roles_pages(console: Console) -> None:
    response = await console.sign_in("walt")
    assert response.headers["location"] == "/warehouse"
    for path in ("/exceptions", "/orders", "/orders/o-1"):
        page = await console.client.get(path)
        assert page.status_code == 403, path
        assert "walt (warehouse) has no such page" in page.text
    assert console.services.calls == []


async def test_signing_out_ends_the_session(console: Console) -> None:
    await console.sign_in("ann")
    token = await console.csrf("/orders")
    signed_out = await console.client.post("/signout", data={"csrf_token": token})
    assert signed_out.headers["location"] == "/signin"
    console.client.cookies.clear()
    assert (await console.client.get("/orders")).status_code == 303


@pytest.mark.parametrize("clock", ["last_seen_at", "expires_at"])
async def test_a_session_ends_when_idle_or_too_old(console: Console, clock: str) -> None:
    await console.sign_in("ann")
    assert (await console.client.get("/orders")).status_code == 200
    past = datetime.now(UTC) - timedelta(hours=13)
    database = await open_database(console.settings.resolved_database_url())
    async with database.transaction() as session:
        await session.exec(update(ConsoleSession).values({clock: past}))
    await database.dispose()
    response = await console.client.get("/orders")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


async def test_a_refresh_of_an_ended_session_says_401(console: Console) -> None:
    response = await console.client.get("/exceptions", headers={"X-Keel-Refresh": "1"})
    assert response.status_code == 401


async def test_a_name_is_locked_after_five_wrong_passwords_in_a_row(console: Console) -> None:
    for _ in range(4):
        assert (await console.sign_in("ann", "wrong password!")).status_code == 401
    assert (await console.sign_in("ann")).status_code == 303  # the right one resets the count
    console.client.cookies.clear()
    for _ in range(5):
        refused = await console.sign_in("ann", "wrong password!")
        assert refused.status_code == 401
    assert "locked for 15 minutes" in refused.text
    locked = await console.sign_in("ann")  # the right password, but the name is locked
    assert locked.status_code == 401
    assert COOKIE not in console.client.cookies

    await console.add_user("ann", "operations")  # an administrator's reset (keel user add)
    assert (await console.sign_in("ann")).status_code == 303
