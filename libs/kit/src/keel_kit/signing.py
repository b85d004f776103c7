"""The local stack's signing keys, and tokens signed with them.

`keel up` keeps them in the state folder's `auth/`: the issuer's Ed25519 key (it signs the staff
tokens `keel token` prints), one key per service (each signs only its own service principal, see
`keel_kit.identity`), and `jwks.json`, the public half of all of them, which the services read.
Private keys are written owner-readable only. In production a company's identity provider issues
the tokens and none of this is used.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from keel_contracts import SERVICES
from keel_contracts.roles import Role
from keel_kit import sealing
from keel_kit.identity import SERVICE_KEY_PREFIX
from keel_kit.settings import ServiceSettings

LOCAL_ISSUER = "keel-local"
AUDIENCE = "keel"
ALGORITHM = "EdDSA"
STAFF_TOKEN_TTL = timedelta(hours=8)
SERVICE_TOKEN_TTL = timedelta(minutes=10)


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)


def read_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds no Ed25519 private key")
    return key


def _public_jwk(key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def _thumbprint(key: Ed25519PrivateKey) -> str:
    """RFC 7638: the key's id changes with the key, so a rotated key is never confused."""
    jwk = _public_jwk(key, kid="")
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(
    key: Ed25519PrivateKey,
    *,
    kid: str,
    subject: str,
    roles: list[Role],
    ttl: timedelta,
    issuer: str = LOCAL_ISSUER,
    audience: str = AUDIENCE,
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "role": roles[0] if len(roles) == 1 else list(roles),
        "iat": now,
        "exp": now + int(ttl.total_seconds()),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


@dataclass(frozen=True)
class StackKeys:
    """The keys in one state folder's `auth/`."""

    folder: Path

    @property
    def jwks_file(self) -> Path:
        return self.folder / "jwks.json"

    @property
    def issuer_key_file(self) -> Path:
        return self.folder / "issuer.pem"

    def service_key_file(self, service: str) -> Path:
        return self.folder / f"service-{service}.pem"

    @classmethod
    def ensure(cls, folder: Path) -> StackKeys:
        """The folder's keys, made first if any is missing (then all are made anew)."""
        keys = cls(folder)
        wanted = [
            keys.jwks_file,
            keys.issuer_key_file,
            *map(keys.service_key_file, SERVICES),
            *(sealing.private_key_file(folder, receiver) for receiver in sealing.SEALED_FOR),
        ]
        if not all(path.exists() for path in wanted):
            keys._create()
        return keys

    def _create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        issuer = Ed25519PrivateKey.generate()
        _write_private(self.issuer_key_file, issuer)
        public = [_public_jwk(issuer, _thumbprint(issuer))]
        for service in SERVICES:
            key = Ed25519PrivateKey.generate()
            _write_private(self.service_key_file(service), key)
            public.append(_public_jwk(key, SERVICE_KEY_PREFIX + service))
        for receiver in sealing.SEALED_FOR:
            sealing.make_keys(self.folder, receiver)
        # Written last and atomically: a service that reads it finds every key it names.
        partial = self.jwks_file.with_suffix(".partial")
        partial.write_text(json.dumps({"keys": public}, indent=2))
        partial.replace(self.jwks_file)

    def staff_token(
        self,
        *,
        user: str,
        role: Role,
        ttl: timedelta = STAFF_TOKEN_TTL,
        issuer: str = LOCAL_ISSUER,
        audience: str = AUDIENCE,
    ) -> str:
        """A person's token, as `keel token` prints it (for the stack's issuer and audience
        unless others are named, as the services' settings may)."""
        key = read_private(self.issuer_key_file)
        return sign(
            key,
            kid=_thumbprint(key),
            subject=user,
            roles=[role],
            ttl=ttl,
            issuer=issuer,
            audience=audience,
        )


class ServiceCredentials:
    """A service's own bearer token for calling another service, signed with its key from the
    state folder and renewed a minute before it expires."""

    def __init__(self, *, service: str, keys: StackKeys, issuer: str, audience: str) -> None:
        self._service = service
        self._key_file = keys.service_key_file(service)
        self._issuer = issuer
        self._audience = audience
        self._token = ""
        self._expires = 0.0

    @classmethod
    def of(cls, settings: ServiceSettings) -> ServiceCredentials:
        """The credentials of the service these settings configure."""
        return cls(
            service=settings.service,
            keys=StackKeys(settings.auth_folder),
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )

    def authorization(self) -> dict[str, str]:
        if time.time() > self._expires - 60:
            principal = SERVICE_KEY_PREFIX + self._service
            self._token = sign(
                read_private(self._key_file),
                kid=principal,
                subject=principal,
                roles=[Role.SERVICE],
                ttl=SERVICE_TOKEN_TTL,
                issuer=self._issuer,
                audience=self._audience,
            )
            self._expires = time.time() + SERVICE_TOKEN_TTL.total_seconds()
        return {"Authorization": f"Bearer {self._token}"}


def main(argv: list[str]) -> int:
    """`python -m keel_kit.signing FOLDER [USER ROLE]`: make the keys in FOLDER if missing, and
    print a staff token for USER in ROLE when asked. For containers, which carry the kit but
    not the `keel` command (whose `keel token` does the same for the local stack)."""
    if len(argv) not in (1, 3):
        print(main.__doc__, file=sys.stderr)
        return 2
    keys = StackKeys.ensure(Path(argv[0]))
    if len(argv) == 3:
        print(keys.staff_token(user=argv[1], role=Role(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
