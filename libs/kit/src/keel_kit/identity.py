"""Who is calling: a bearer JWT checked against the issuer's public keys (JWKS).

Locally the stack's keys live in the state folder (`keel up` makes them, see `keel_kit.signing`);
in production the same checks take the company's OIDC issuer and its JWKS URL, and the claim that
carries roles is a setting. Only the configured asymmetric algorithms are accepted, never `none`
and never a shared secret, so holding the public keys lets nobody mint a token.

A key whose id names a service (`service:finance`) signs only that service's own principal: a
token it signs must name the service as subject and carry the role `service` and nothing else, so
a service's key cannot be used to mint a person.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from keel_contracts.roles import PARTNER_ROLES, Role

SERVICE_KEY_PREFIX = "service:"
# An unknown key id makes the verifier reread the keys (the issuer may have rotated), but not
# more often than this, so a stream of forged key ids cannot hammer the issuer.
JWKS_REFRESH_SECONDS = 30.0


# Who the request being served is from (set by the access guard): idempotency keys are kept per
# caller, so one partner's key can never replay, or reveal, another's answer.
current_caller: ContextVar[str | None] = ContextVar("keel_caller", default=None)


class Unauthenticated(Exception):
    """The request carries no token, or one that does not verify; the message says why."""


@dataclass(frozen=True)
class Principal:
    """The caller: a person (`sub` of a staff token) or a service, with its roles."""

    subject: str
    roles: frozenset[Role]

    @property
    def role(self) -> str:
        """The roles as one label, for audit and logs."""
        return ",".join(sorted(self.roles))

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)

    @classmethod
    def of_service(cls, service: str) -> Principal:
        """A service acting on its own (a consumer, a periodic job), as the audit trail names
        it: the same principal its own calls to other services carry."""
        return cls(SERVICE_KEY_PREFIX + service, frozenset({Role.SERVICE}))


@dataclass(frozen=True)
class TokenRules:
    """What a token must satisfy, from the service's settings."""

    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    role_claim: str  # a dotted path into the claims, e.g. `realm_access.roles` for Keycloak
    leeway_seconds: float = 30.0


class KeySource:
    """The issuer's public keys, from a JWKS file or URL, reread when a token names a key id
    that is not among them (a rotation) and the last read is old enough."""

    def __init__(self, *, file: Path | None = None, url: str | None = None) -> None:
        if (file is None) == (url is None):
            raise ValueError("give the JWKS file or its URL, one of them")
        self._file = file
        self._url = url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._read_at = -JWKS_REFRESH_SECONDS
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys and time.monotonic() - self._read_at >= JWKS_REFRESH_SECONDS:
            async with self._lock:
                if kid not in self._keys:
                    self._keys = await self._read()
                    self._read_at = time.monotonic()
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthenticated(f"token signed with an unknown key {kid!r}") from None

    async def _read(self) -> dict[str, jwt.PyJWK]:
        try:
            document = await self._document()
        except (OSError, ValueError, httpx.HTTPError) as error:
            raise Unauthenticated(f"the issuer's keys cannot be read: {error}") from error
        keys = {}
        for entry in document.get("keys", []):
            if "kid" in entry:
                keys[entry["kid"]] = jwt.PyJWK.from_dict(entry)
        return keys

    async def _document(self) -> dict[str, Any]:
        if self._file is not None:
            return dict(json.loads(await asyncio.to_thread(self._file.read_text)))
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(str(self._url))
            response.raise_for_status()
            return dict(response.json())


class TokenVerifier:
    """Checks a bearer token and answers its principal, or raises `Unauthenticated`."""

    def __init__(self, keys: KeySource, rules: TokenRules) -> None:
        self._keys = keys
        self._rules = rules

    async def principal(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"not a JWT: {error}") from error
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in self._rules.algorithms:
            raise Unauthenticated(f"algorithm {algorithm!r} is not accepted")
        if not isinstance(kid, str):
            raise Unauthenticated("token names no key id (kid)")
        key = await self._keys.key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(self._rules.algorithms),
                audience=self._rules.audience,
                issuer=self._rules.issuer,
                leeway=self._rules.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"token refused: {error}") from error
        principal = Principal(subject=str(claims["sub"]), roles=self._roles(claims))
        if kid.startswith(SERVICE_KEY_PREFIX) and (
            principal.subject != kid or principal.roles != {Role.SERVICE}
        ):
            raise Unauthenticated(f"key {kid!r} signs only its own service principal")
        return principal

    def _roles(self, claims: Mapping[str, Any]) -> frozenset[Role]:
        value: Any = claims
        for part in self._rules.role_claim.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        named = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        known = {str(r) for r in Role}
        roles = frozenset(Role(r) for r in named if r in known)
        if not roles:
            raise Unauthenticated(f"token carries no Keel role in {self._rules.role_claim!r}")
        if roles & set(PARTNER_ROLES):
            raise Unauthenticated("a partner role comes only with a partner's signature")
        return roles
