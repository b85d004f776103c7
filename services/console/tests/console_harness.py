"""The console on its real (SQLite) database, driven over ASGI, with the services replaced by a
fake that answers what a test sets and remembers every call (who, with which token)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from fake_provider import FakeProvider, provider_for
from keel_console import accounts
from keel_console.db import open_database
from keel_console.main import create_app
from keel_console.settings import Settings
from keel_kit.signing import StackKeys

PASSWORD = "correct horse battery"


@dataclass
class FakeServices:
    """Answers by (method, path): a JSON body, a (status, problem detail) pair, or a function of
    the request giving either (for a path whose answer depends on its query)."""

    answers: dict[tuple[str, str], Any] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    provider: FakeProvider | None = None  # the company's identity provider, when one is used

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.provider is not None and self.provider.handles(request):
            return self.provider.handle(request)
        token = request.headers["authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        body = json.loads(request.content) if request.content else None
        self.calls.append(
            {
                "method": request.method,
                "url": request.url,
                "claims": claims,
                "body": body,
                "key": request.headers.get("idempotency-key"),
            }
        )
        answer = self.answers.get((request.method, request.url.path))
        if callable(answer):
            answer = answer(request)
        if answer is None:
            return httpx.Response(404, json={"status": 404, "detail": "no such thing"})
        if isinstance(answer, tuple):
            status, detail = answer
            return httpx.Response(status, json={"status": status, "detail": detail})
        return httpx.Response(200, json=answer)


@dataclass
class Console:
    client: httpx.AsyncClient
    services: FakeServices
    settings: Settings

    async def add_user(self, name: str, role: str) -> None:
        database = await open_database(self.settings.resolved_database_url())
        async with database.transaction() as session:
            await accounts.set_user(session, name, role, PASSWORD)
        await database.dispose()

    async def sign_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        page = await self.client.get("/signin")
        token = re.search(r'name="signin_token" value="([^"]+)"', page.text)
        assert token is not None
        return await self.client.post(
            "/signin",
            data={"username": name, "password": password, "signin_token": token.group(1)},
        )

    async def csrf(self, path: str = "/exceptions") -> str:
        page = await self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None, page.text
        return found.group(1)


@asynccontextmanager
async def running_console(tmp_path: Path, **overrides: Any) -> AsyncIterator[Console]:
    StackKeys.ensure(tmp_path / "auth")
    settings = Settings(state_dir=tmp_path, **overrides)
    services = FakeServices(provider=provider_for(tmp_path) if settings.oidc_issuer else None)
    app = create_app(settings, httpx.MockTransport(services.handle))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
            yield Console(client, services, settings)
