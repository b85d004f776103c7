"""The CLI's people carry tokens the stack's issuer signed, one client per person and service."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from keel_cli import stack
from keel_cli.people import BUYER, WAREHOUSE, Staff
from keel_contracts.roles import Role
from keel_kit.identity import KeySource, Principal, TokenRules, TokenVerifier
from keel_kit.signing import ALGORITHM, AUDIENCE, LOCAL_ISSUER

pytestmark = [pytest.mark.unit, pytest.mark.asyncio]


async def principal_of(headers: Mapping[str, str], state_dir: Path) -> Principal:
    """Who the services take the request for, checking the token as they do."""
    scheme, _, token = headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    rules = TokenRules(
        issuer=LOCAL_ISSUER, audience=AUDIENCE, algorithms=(ALGORITHM,), role_claim="role"
    )
    keys = KeySource(file=stack.keys(state_dir).jwks_file)
    return await TokenVerifier(keys, rules).principal(token)


async def test_a_persons_headers_make_the_request_theirs(tmp_path: Path) -> None:
    principal = await principal_of(WAREHOUSE.headers(tmp_path), tmp_path)

    assert principal == Principal(subject=WAREHOUSE.name, roles=frozenset({Role.WAREHOUSE}))


async def test_staff_keeps_one_client_per_person_and_service_and_closes_them(
    tmp_path: Path,
) -> None:
    made: list[httpx.AsyncClient] = []

    def make(service: str, headers: Mapping[str, str]) -> httpx.AsyncClient:
        made.append(httpx.AsyncClient(base_url=stack.url(service), headers=headers))
        return made[-1]

    async with Staff(make, tmp_path) as staff:
        buyer = staff.client(BUYER, "procurement")
        assert staff.client(BUYER, "procurement") is buyer
        receiving = staff.client(WAREHOUSE, "procurement")
        assert receiving is not buyer
        caller = await principal_of(receiving.headers, tmp_path)
        assert caller.subject == WAREHOUSE.name

    assert len(made) == 2
    assert all(client.is_closed for client in made)
