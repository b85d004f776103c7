"""The console on its real (SQLite) database, driven over ASGI, with the services replaced by a
fake that answers what a test sets and remembers every call (who, with which token); and what
every page keeps to, checked on its HTML (`page_problems`)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import jwt

from fake_provider import FakeProvider, provider_for
from keel_console import accounts
from keel_console.db import open_database
from keel_console.main import create_app
from keel_console.settings import Settings
from keel_contracts import SERVICES
from keel_kit.signing import StackKeys

PASSWORD = "correct horse battery"


@dataclass
class FakeServices:
    """Answers by (method, service, path), else by (method, path) whichever service is asked:
    a JSON body, a (status, problem detail) pair, or a function of the request giving either
    (for a path whose answer depends on its query)."""

    answers: dict[tuple[str, ...], Any] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    provider: FakeProvider | None = None  # the company's identity provider, when one is used
    hosts: dict[str, str] = field(default_factory=dict)  # each service's host:port, its name

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.provider is not None and self.provider.handles(request):
            return self.provider.handle(request)
        token = request.headers["authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        body = json.loads(request.content) if request.content else None
        service = self.hosts.get(request.url.netloc.decode(), "")
        self.calls.append(
            {
                "service": service,
                "method": request.method,
                "url": request.url,
                "claims": claims,
                "body": body,
                "key": request.headers.get("idempotency-key"),
            }
        )
        answer = self.answers.get(
            (request.method, service, request.url.path),
            self.answers.get((request.method, request.url.path)),
        )
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
    services = FakeServices(
        provider=provider_for(tmp_path) if settings.oidc_issuer else None,
        hosts={httpx.URL(settings.service_url(s)).netloc.decode(): s for s in SERVICES},
    )
    app = create_app(settings, httpx.MockTransport(services.handle))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
            yield Console(client, services, settings)


FIELDS = ("input", "select", "textarea")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []
        self.fields: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for attribute in ("src", "href", "action"):
            if named.get(attribute) is not None:
                self.addresses.append(str(named[attribute]))
        if tag in FIELDS and named.get("type") != "hidden":
            self.fields.append(named)
        if tag == "label" and named.get("for"):
            self.labelled.add(str(named["for"]))


def page_problems(html: str) -> list[str]:
    """What a page breaks of the rules every page keeps: it loads nothing from outside the
    console (its CSP would block it anyway), and each field a person fills in has a label of
    its own (and an id nothing else has)."""
    page = _Page()
    page.feed(html)
    found = [f"outside address {a}" for a in page.addresses if not a.startswith(("/", "#"))]
    found += [f"address {a} leaves the console" for a in page.addresses if a.startswith("//")]
    ids = [str(f.get("id")) for f in page.fields]
    found += [f"field {f} has no label" for f in page.fields if f.get("id") not in page.labelled]
    found += [f"id {i} given twice" for i in set(ids) if ids.count(i) > 1]
    return found
