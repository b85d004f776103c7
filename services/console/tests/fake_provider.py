"""A stand-in for a company's OpenID Connect provider, answering over the tests' transport: its
discovery document, its keys (the stack's own, so the services' checks accept its tokens), and a
token endpoint that checks the PKCE verifier against the challenge it was shown."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt

from keel_kit.signing import AUDIENCE, LOCAL_ISSUER, StackKeys, read_private

ISSUER = "https://idp.test"
CLIENT_ID = "keel-console"


@dataclass
class FakeProvider:
    keys: StackKeys
    # code -> (the code challenge and nonce it was issued for, the person and their roles)
    codes: dict[str, tuple[str, str, str, list[str]]] = field(default_factory=dict)
    nonce_override: str | None = None
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)

    def issue_code(
        self, code: str, *, challenge: str, nonce: str, user: str, roles: list[str]
    ) -> None:
        """What the provider does once the person signed in there: a code for this console."""
        self.codes[code] = (challenge, nonce, user, roles)

    def handles(self, request: httpx.Request) -> bool:
        return request.url.host == "idp.test"

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks",
            })  # fmt: skip
        if path == "/jwks":
            return httpx.Response(200, json=json.loads(self.keys.jwks_file.read_text()))
        if path == "/token":
            return self._token(parse_qs(request.content.decode()))
        return httpx.Response(404)

    def _token(self, form: dict[str, list[str]]) -> httpx.Response:
        self.token_requests.append(form)
        code = form["code"][0]
        if code not in self.codes:
            return httpx.Response(400, json={"error": "invalid_grant"})
        challenge, nonce, user, roles = self.codes.pop(code)
        verifier = form["code_verifier"][0].encode()
        made = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if made != challenge:
            return httpx.Response(400, json={"error": "invalid_grant", "why": "PKCE"})
        now = int(time.time())
        id_claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": user, "iat": now, "exp": now + 300,
                     "nonce": self.nonce_override or nonce}  # fmt: skip
        access_claims = {"iss": LOCAL_ISSUER, "aud": AUDIENCE, "sub": user, "iat": now,
                         "exp": now + 300, "role": roles}  # fmt: skip
        return httpx.Response(200, json={
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self._sign(id_claims),
            "access_token": self._sign(access_claims),
        })  # fmt: skip

    def _sign(self, claims: dict[str, Any]) -> str:
        key = read_private(self.keys.issuer_key_file)
        kid = json.loads(self.keys.jwks_file.read_text())["keys"][0]["kid"]
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


def provider_for(state_dir: Path) -> FakeProvider:
    return FakeProvider(StackKeys.ensure(state_dir / "auth"))
