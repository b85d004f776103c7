"""Signing in through the company's OpenID Connect provider: the authorization code flow with
PKCE (RFC 7636, the S256 challenge made with Authlib), the ID token checked (signature, issuer,
audience, nonce), and the provider's access token kept in the session to be passed on: the
services check it as they check every token (`KEEL_AUTH_*`), so their permission tables and
audit trails name the person the provider knows.

What must survive the trip to the provider and back (the state, the code verifier and the
nonce) rides in a short-lived HttpOnly cookie of its own, sent back by the browser only to this
console.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from keel_console.settings import Settings
from keel_contracts.roles import STAFF_ROLES, Role
from keel_kit.identity import KeySource, Principal, TokenRules, TokenVerifier, Unauthenticated

COOKIE = "keel_console_oidc"
COOKIE_SECONDS = 600  # how long a person may spend at the provider before the trip is void


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in; the message says why, for the person."""


@dataclass(frozen=True)
class Trip:
    """What this console remembers of one trip to the provider."""

    state: str
    code_verifier: str
    nonce: str

    def cookie(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(self.__dict__).encode()).decode()

    @classmethod
    def from_cookie(cls, value: str | None) -> Trip:
        try:
            return cls(**json.loads(base64.urlsafe_b64decode((value or "").encode())))
        except (ValueError, TypeError) as error:
            raise SignInFailed("the sign-in took too long or began elsewhere; try again") from error


@dataclass(frozen=True)
class Signed:
    """Who the provider signed in, the Keel role the console shows them, and their token."""

    subject: str
    role: Role
    access_token: str
    expires_at: float  # Unix time


class Provider:
    """The company's provider, read from its discovery document on first use."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        assert settings.oidc_issuer is not None
        self._settings = settings
        self._issuer = settings.oidc_issuer.rstrip("/")
        self._http = http
        self._metadata: dict[str, Any] | None = None
        keys = (
            KeySource(url=settings.auth_jwks_url)
            if settings.auth_jwks_url
            else KeySource(file=settings.auth_folder / "jwks.json")
        )
        rules = TokenRules(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            algorithms=settings.auth_algorithms,
            role_claim=settings.auth_role_claim,
        )
        self._access_tokens = TokenVerifier(keys, rules)

    async def _discovered(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self._issuer}/.well-known/openid-configuration"
            self._metadata = await self._get_json(url)
        return self._metadata

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            return dict(response.json())
        except (httpx.HTTPError, ValueError) as error:
            raise SignInFailed(f"the identity provider did not answer: {error}") from error

    async def start(self, redirect_uri: str) -> tuple[str, Trip]:
        """Where to send the browser, and what to remember until it comes back."""
        metadata = await self._discovered()
        trip = Trip(
            state=generate_token(32), code_verifier=generate_token(64), nonce=generate_token(32)
        )
        url = add_params_to_uri(
            metadata["authorization_endpoint"],
            [
                ("response_type", "code"),
                ("client_id", self._settings.oidc_client_id),
                ("redirect_uri", redirect_uri),
                ("scope", self._settings.oidc_scopes),
                ("state", trip.state),
                ("nonce", trip.nonce),
                ("code_challenge", create_s256_code_challenge(trip.code_verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return url, trip

    async def finish(self, *, code: str, state: str, trip: Trip, redirect_uri: str) -> Signed:
        """Trade the code for tokens and check them; who signed in."""
        if state != trip.state:
            raise SignInFailed("the sign-in answer does not match the one this browser began")
        metadata = await self._discovered()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self._settings.oidc_client_id,
            "code_verifier": trip.code_verifier,
        }
        if self._settings.oidc_client_secret is not None:
            form["client_secret"] = self._settings.oidc_client_secret.get_secret_value()
        try:
            response = await self._http.post(metadata["token_endpoint"], data=form)
        except httpx.HTTPError as error:
            raise SignInFailed(f"the identity provider did not answer: {error}") from error
        if response.status_code != 200:
            raise SignInFailed(f"the identity provider refused the code ({response.status_code})")
        tokens = response.json()
        await self._check_id_token(str(tokens.get("id_token", "")), trip.nonce, metadata)
        access_token = str(tokens.get("access_token", ""))
        try:
            principal = await self._access_tokens.principal(access_token)
        except Unauthenticated as error:
            raise SignInFailed(f"the services would refuse this sign-in: {error}") from error
        expires_in = float(tokens.get("expires_in") or 300)
        return Signed(
            subject=principal.subject,
            role=_console_role(principal),
            access_token=access_token,
            expires_at=time.time() + expires_in,
        )

    async def _check_id_token(self, id_token: str, nonce: str, metadata: dict[str, Any]) -> None:
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            keys = jwt.PyJWKSet.from_dict(await self._get_json(metadata["jwks_uri"]))
            key = next(k for k in keys.keys if k.key_id == kid)
            claims = jwt.decode(
                id_token,
                key=key,
                algorithms=list(self._settings.auth_algorithms),
                audience=self._settings.oidc_client_id,
                issuer=metadata.get("issuer", self._issuer),
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except (jwt.InvalidTokenError, StopIteration, jwt.PyJWKSetError) as error:
            raise SignInFailed(f"the identity provider's ID token is not valid: {error}") from error
        if claims.get("nonce") != nonce:
            raise SignInFailed("the ID token was not made for this sign-in (nonce)")


def _console_role(principal: Principal) -> Role:
    """The staff role the console shows: a person with several gets the first in the roles'
    order (admin first), since a session works in one."""
    for role in STAFF_ROLES:
        if role in principal.roles:
            return role
    raise SignInFailed(f"{principal.subject} has no staff role in Keel")
