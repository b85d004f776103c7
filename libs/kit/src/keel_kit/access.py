"""Who may use which route: authentication and authorization before anything else.

Each service declares one `Permissions` table, route by route (method and path template), with
the roles allowed; admin may use every route, and a route the table does not name is refused to
everyone else (default deny; a test fails for any route left out). The `AccessGuard` middleware
sits in front of the whole app, so a caller who may not use a route is answered 401 or 403 before
its body is read, its parameters validated or its object looked up: a refusal never reveals
whether an object exists or a body was wrong.

`/health/*`, `/metrics`, `/docs` and `/openapi.json` stay open; everything under `/v1` needs a
principal. In production, close the open ones at the ingress if they must not be public.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel_contracts.roles import Role
from keel_kit.audit import current_request_id, new_request_id
from keel_kit.faults import is_transient
from keel_kit.http_limits import (
    DEFAULT_BODY_LIMITS,
    BodyLimits,
    ClientGone,
    read_body,
    replay_body,
    too_large,
)
from keel_kit.idempotency import REPLAYED_HEADER
from keel_kit.identity import (
    KeySource,
    Principal,
    TokenRules,
    TokenVerifier,
    Unauthenticated,
    current_caller,
)
from keel_kit.partners import PARTNER_HEADER, PartnerVerifier, SignedRequest
from keel_kit.problems import DomainError, database_unavailable, problem
from keel_kit.rate_limits import RateLimiter
from keel_kit.settings import ServiceSettings

GUARDED_PREFIX = "/v1/"
READERS = frozenset({Role.LEADERSHIP})  # leadership reads everything


@dataclass(frozen=True)
class Permissions:
    """Route (method, path template) → the roles allowed besides admin."""

    routes: Mapping[tuple[str, str], frozenset[Role]]
    _patterns: list[tuple[int, str, re.Pattern[str], str]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Matched here rather than through the app's router, so the guard can decide before
        # routing; the most literal template wins (`/returns/summary` over `/returns/{id}`),
        # as the app itself routes it (it declares literal paths first).
        patterns = [
            (path.count("{"), method, compile_path(path)[0], path) for method, path in self.routes
        ]
        object.__setattr__(self, "_patterns", sorted(patterns, key=lambda p: p[0]))

    def template(self, method: str, path: str) -> str | None:
        """The template of the route the request reaches, or None when no entry matches."""
        for _, entry_method, pattern, template in self._patterns:
            if entry_method == method and pattern.match(path):
                return template
        return None

    def __or__(self, other: Permissions) -> Permissions:
        return Permissions({**self.routes, **other.routes})


def roles(*named: Role, read: bool = False) -> frozenset[Role]:
    """The roles named, and leadership too for a route that only reads."""
    return frozenset(named) | (READERS if read else frozenset())


def table(entries: Iterable[tuple[str, str, frozenset[Role]]]) -> Permissions:
    """A permission table from (method, path, roles) rows, refusing a route named twice."""
    routes: dict[tuple[str, str], frozenset[Role]] = {}
    for method, path, allowed in entries:
        if (method, path) in routes:
            raise ValueError(f"{method} {path} is named twice")
        routes[(method, path)] = allowed
    return Permissions(routes)


@dataclass(frozen=True)
class _Caller:
    """An authenticated request: who sent it, and for a partner's, its signature and body."""

    principal: Principal
    receive: Receive
    signed: SignedRequest | None = None
    body: bytes = b""


class AccessGuard:
    """ASGI middleware: authenticate every `/v1` request (a bearer token, or a partner's
    signature), then authorize it by the table."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        permissions: Permissions,
        partners: PartnerVerifier | None = None,
        limiter: RateLimiter | None = None,
        body_limits: BodyLimits = DEFAULT_BODY_LIMITS,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.permissions = permissions
        self.partners = partners
        self.limiter = limiter
        self.body_limits = body_limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GUARDED_PREFIX):
            await self.app(scope, receive, send)
            return
        caller = await self._authenticate(scope, receive, send)
        if caller is None:
            return  # refused and answered, or nobody is left to answer
        refusal = self._refusal(caller.principal, scope)
        if refusal is not None:
            await refusal(scope, caller.receive, send)
            return
        await self._run(caller, scope, send)

    async def _authenticate(self, scope: Scope, receive: Receive, send: Send) -> _Caller | None:
        """Who sends the request: a partner by its signature, or the bearer of a token. None
        once a refusal (401, 413, or 503 while the partners' secrets cannot be read) is sent."""
        headers = Headers(scope=scope)
        try:
            if self.partners is None or not _signed_by_partner(headers):
                return _Caller(await self.verifier.principal(_bearer(headers)), receive)
            # The signature covers the body, so it is read here (within the size limit) and
            # handed on to the app as it came.
            limit = self.body_limits.for_path(scope["path"])
            body = await read_body(receive, limit=limit)
            if body is None:
                await too_large(limit)(scope, receive, send)
                return None
            signed = await self.partners.verify(headers, body)
            return _Caller(signed.principal, replay_body(body, receive), signed, body)
        except ClientGone:
            return None
        except Unauthenticated as refusal:
            response = problem(401, "Unauthenticated", str(refusal))
            response.headers["WWW-Authenticate"] = 'Bearer realm="keel"'
            await response(scope, receive, send)
            return None
        except Exception as error:
            # Outside the app's problem handlers: a partner's secrets are read from the database.
            if not is_transient(error):
                raise
            await database_unavailable()(scope, receive, send)
            return None

    def _refusal(self, principal: Principal, scope: Scope) -> Response | None:
        """A 429 for a caller over its rate, a 403 for a route its role may not use."""
        if self.limiter is not None:
            wait = self.limiter.retry_after(principal.subject)
            if wait is not None:
                return _too_many(principal, wait, self.limiter)
        method = scope["method"]
        template = self.permissions.template(method, scope["path"])
        if self._may(principal, method, template):
            return None
        # Default deny: a path no entry names is refused like a route the role lacks, so
        # neither tells the caller anything.
        what = f"{method} {template or scope['path']}"
        return problem(403, "Forbidden", f"{principal.subject} ({principal.role}) may not {what}")

    async def _run(self, caller: _Caller, scope: Scope, send: Send) -> None:
        state = scope.setdefault("state", {})
        state["principal"] = caller.principal
        # The audit trail names the request an action came in (the caller's id, if it sent one).
        request_id = Headers(scope=scope).get("x-request-id") or new_request_id()
        request_token = current_request_id.set(request_id[:100])
        caller_token = current_caller.set(caller.principal.subject)
        try:
            if caller.signed is None or scope["method"] == "GET":
                await self.app(scope, caller.receive, send)
            else:
                state["webhook_id"] = caller.signed.webhook_id
                await self._once(caller.signed, caller.body, scope, caller.receive, send)
        finally:
            current_caller.reset(caller_token)
            current_request_id.reset(request_token)

    async def _once(
        self, signed: SignedRequest, body: bytes, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run a signed request once per webhook id; a repeat gets the first answer."""
        assert self.partners is not None
        try:
            taken = await self.partners.take(signed, body)
        except Exception as error:
            if not is_transient(error):
                raise
            await database_unavailable()(scope, receive, send)
            return
        if isinstance(taken, str):
            conflict = problem(
                409, "Conflict", taken, errors=[{"field": "header.webhook-id", "message": taken}]
            )
            await conflict(scope, receive, send)
            return
        if taken is not None:
            replay = Response(
                taken.response_body,
                status_code=taken.status_code or 200,
                media_type="application/json",
                headers={REPLAYED_HEADER: "true"},
            )
            await replay(scope, receive, send)
            return
        answer = _Captured(send)
        try:
            await self.app(scope, receive, answer.send)
        finally:
            await self.partners.remember(signed, answer.status, answer.body)

    def _may(self, principal: Principal, method: str, template: str | None) -> bool:
        if Role.ADMIN in principal.roles:
            return True
        if template is None:
            return False
        allowed = self.permissions.routes[(method, template)]
        return principal.has_any(allowed)


class _Captured:
    """Passes a response on to the client and keeps its status and body."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500  # unless the app answers
        self._chunks: list[bytes] = []

    @property
    def body(self) -> bytes:
        return b"".join(self._chunks)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self._chunks.append(message.get("body", b""))
        await self._send(message)


def _too_many(principal: Principal, wait: int, limiter: RateLimiter) -> Response:
    response = problem(
        429,
        "Too many requests",
        f"{principal.subject} sent more than {limiter.per_second:g} requests a second "
        f"(bursts of {limiter.burst}); retry after {wait} s",
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _signed_by_partner(headers: Headers) -> bool:
    return PARTNER_HEADER in headers and not headers.get("authorization")


def _bearer(headers: Headers) -> str:
    header = headers.get("authorization")
    if header is None:
        raise Unauthenticated("no bearer token (Authorization: Bearer <token>)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header is not a bearer token")
    return token.strip()


def token_verifier(settings: ServiceSettings) -> TokenVerifier:
    """The verifier the settings describe: the company's issuer when its JWKS URL is set,
    otherwise the local stack's keys in the state folder."""
    url = settings.auth_jwks_url
    keys = KeySource(url=url) if url else KeySource(file=settings.auth_folder / "jwks.json")
    rules = TokenRules(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        algorithms=settings.auth_algorithms,
        role_claim=settings.auth_role_claim,
    )
    return TokenVerifier(keys, rules)


class ForbiddenActor(DomainError):
    status = 403
    title = "Forbidden"


def current_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):  # a route outside /v1 asked for one
        raise ForbiddenActor("this route is not guarded and knows no principal")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def signed_request_id(request: Request) -> str | None:
    """The `webhook-id` of a partner's signed request: its idempotency key."""
    webhook_id = getattr(request.state, "webhook_id", None)
    return webhook_id if isinstance(webhook_id, str) else None


def acting_person(principal: Principal, named: str | None, *, field: str) -> str:
    """Who acts in a governed action: the principal. A body may still name them in `field`
    (older clients did), but naming anyone else is refused."""
    if named is not None and named != principal.subject:
        raise ForbiddenActor(
            f"{principal.subject} may not act as {named!r}: the actor is the caller", field=field
        )
    return principal.subject


def guarded_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the app serves under `/v1`, from its OpenAPI document."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(GUARDED_PREFIX)
        for method in operations
    }
