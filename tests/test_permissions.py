"""Every role against every route of every service: the guard lets exactly the roles the
service's permission table names (and admin) through, and answers 401 to a caller without a
token, before the body, the parameters or the object are looked at.

Each service runs its real app on SQLite (service-test style); each request carries an empty JSON
object and placeholder ids, so what a permitted caller gets (200, 404, 422 ...) does not matter
here, only whether the guard refused it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from keel_cli import permissions as matrix
from keel_contracts import SERVICES
from keel_contracts.roles import Role
from keel_kit.access import guarded_routes
from keel_kit.testing import ServiceUnderTest, running

pytestmark = [pytest.mark.service, pytest.mark.asyncio]

PLACEHOLDER = re.compile(r"\{[^}]+\}")


def _app(service: str, tmp_path: Path) -> Any:
    settings = importlib.import_module(f"keel_{service}.settings").Settings(
        state_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    )
    return importlib.import_module(f"keel_{service}.main").create_app(settings)


# A partner role is had only by signing as that partner (a token naming it is refused).
PARTNERS = {Role.CHANNEL: "channel:web", Role.WAREHOUSE_SYSTEM: "warehouse:WH-A"}


async def _call(
    sut: ServiceUnderTest, method: str, path: str, role: Role | None, secrets: dict[str, str]
) -> Any:
    body: dict[str, Any] | None = {} if method != "GET" else None
    if role in PARTNERS:
        partner = PARTNERS[role]
        if partner not in secrets:
            secrets[partner] = await sut.partner_secret(partner)
        return await sut.signed(method, path, partner=partner, secret=secrets[partner], body=body)
    if role is None:
        headers = {"Authorization": ""}  # the client's default admin token, taken off
    elif role is Role.SERVICE:
        headers = sut.as_service("finance")
    else:
        headers = sut.as_person(f"someone-in-{role}", role)
    return await sut.client.request(method, path, json=body, headers=headers)


def _refused_by_guard(response: Any, method: str, template: str) -> bool:
    if response.status_code != 403:
        return False
    return str(response.json()["detail"]).endswith(f"may not {method} {template}")


@pytest.mark.parametrize("service", SERVICES)
async def test_each_role_reaches_exactly_the_routes_its_table_allows(
    service: str, tmp_path: Path
) -> None:
    async with running(_app(service, tmp_path), ServiceUnderTest) as sut:
        table = sut.app.state.permissions
        routes = guarded_routes(sut.app)
        assert routes == set(table.routes), "a route without an entry, or an entry without one"
        assert table.routes == matrix.service_permissions(service).routes  # what README shows
        wrong = []
        secrets: dict[str, str] = {}
        for method, template in sorted(routes):
            path = PLACEHOLDER.sub("1", template)
            for role in [None, *Role]:
                response = await _call(sut, method, path, role, secrets)
                if role is None:
                    expected, got = 401, response.status_code
                else:
                    allowed = role is Role.ADMIN or role in table.routes[(method, template)]
                    expected, got = allowed, not _refused_by_guard(response, method, template)
                if got != expected:
                    wrong.append(f"{role} {method} {template}: {response.status_code}")
        print(f"{service}: {len(routes)} routes x {len(Role) + 1} callers")
        assert not wrong, "\n".join(wrong)
