"""Service tests of signing in with the company's account: the authorization code flow with
PKCE against a stand-in provider, its tokens checked, and its access token passed on to the
services unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from console_harness import PASSWORD, Console, running_console
from fake_provider import CLIENT_ID, ISSUER, FakeProvider
from keel_console import oidc
from keel_console.sessions import COOKIE

pytestmark = [pytest.mark.service, pytest.mark.asyncio]


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path, oidc_issuer=ISSUER, oidc_client_id=CLIENT_ID) as console:
        console.services.answers[("GET", "/v1/exceptions")] = {"items": [], "next_cursor": None}
        yield console


def provider(console: Console) -> FakeProvider:
    assert console.services.provider is not None
    return console.services.provider


async def off_to_the_provider(console: Console) -> dict[str, str]:
    """Follow the console to the provider; the authorization request's parameters."""
    response = await console.client.get("/signin/oidc")
    assert response.status_code == 303
    assert "samesite=lax" in response.headers["set-cookie"].lower()
    asked = urlsplit(response.headers["location"])
    assert f"{asked.scheme}://{asked.netloc}{asked.path}" == f"{ISSUER}/authorize"
    return {k: v[0] for k, v in parse_qs(asked.query).items()}


async def back_from_the_provider(console: Console, code: str, state: str) -> httpx.Response:
    return await console.client.get("/signin/oidc/callback", params={"code": code, "state": state})


async def test_a_person_signs_in_at_the_provider_and_their_token_is_passed_on(
    console: Console,
) -> None:
    page = await console.client.get("/signin")
    assert "Sign in with your company account" in page.text
    assert 'name="password"' not in page.text
    asked = await off_to_the_provider(console)
    assert (asked["response_type"], asked["client_id"]) == ("code", CLIENT_ID)
    assert asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == "http://console/signin/oidc/callback"
    provider(console).issue_code(
        "c-1", challenge=asked["code_challenge"], nonce=asked["nonce"], user="olga@corp",
        roles=["operations"],
    )  # fmt: skip

    landed = await back_from_the_provider(console, "c-1", asked["state"])
    assert landed.status_code == 200
    assert 'http-equiv="refresh" content="0; url=/exceptions"' in landed.text
    assert COOKIE in console.client.cookies
    (token_request,) = provider(console).token_requests
    assert token_request["grant_type"] == ["authorization_code"]
    assert "client_secret" not in token_request  # a public client: PKCE alone

    queue = await console.client.get("/exceptions")
    assert queue.status_code == 200
    assert "olga@corp · operations" in queue.text
    assert [c["service"] for c in console.services.calls] == ["order", "inventory"]
    for call in console.services.calls:
        assert call["claims"]["iss"] == "keel-local"  # the provider's token, as it signed it
        assert call["claims"]["sub"] == "olga@corp"


async def test_an_answer_for_another_trip_or_token_is_refused(console: Console) -> None:
    asked = await off_to_the_provider(console)
    provider(console).issue_code(
        "c-2", challenge=asked["code_challenge"], nonce=asked["nonce"], user="olga@corp",
        roles=["operations"],
    )  # fmt: skip
    forged = await back_from_the_provider(console, "c-2", "another-state")
    assert forged.status_code == 401
    assert "does not match" in forged.text

    asked = await off_to_the_provider(console)
    provider(console).nonce_override = "someone-elses"
    provider(console).issue_code(
        "c-3", challenge=asked["code_challenge"], nonce=asked["nonce"], user="olga@corp",
        roles=["operations"],
    )  # fmt: skip
    replayed = await back_from_the_provider(console, "c-3", asked["state"])
    assert replayed.status_code == 401
    assert "nonce" in replayed.text
    assert COOKIE not in console.client.cookies


async def test_a_wrong_verifier_or_no_keel_role_signs_nobody_in(console: Console) -> None:
    asked = await off_to_the_provider(console)
    provider(console).issue_code(
        "c-4", challenge="not-the-challenge", nonce=asked["nonce"], user="eve", roles=["finance"]
    )
    refused = await back_from_the_provider(console, "c-4", asked["state"])
    assert refused.status_code == 401
    assert "refused the code" in refused.text

    asked = await off_to_the_provider(console)
    provider(console).issue_code(
        "c-5", challenge=asked["code_challenge"], nonce=asked["nonce"], user="guest",
        roles=["visitor"],
    )  # fmt: skip
    roleless = await back_from_the_provider(console, "c-5", asked["state"])
    assert roleless.status_code == 401
    assert "no Keel role" in roleless.text


async def test_a_trip_begun_elsewhere_and_local_passwords_are_refused(console: Console) -> None:
    console.client.cookies.delete(oidc.COOKIE)
    lost = await back_from_the_provider(console, "c-x", "s")
    assert lost.status_code == 401
    assert "try again" in lost.text
    await console.add_user("ann", "operations")
    console.client.cookies.set("keel_console_signin", "t")
    with_password = await console.client.post(
        "/signin", data={"username": "ann", "password": PASSWORD, "signin_token": "t"}
    )
    assert with_password.status_code == 403
    assert "not a local password" in with_password.text
