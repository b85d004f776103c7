"""Secrets that cross Kafka sealed for the one service that may read them.

A card token goes from the order service to finance inside a message. Sealed with finance's
public key (a libsodium sealed box: X25519 and XSalsa20-Poly1305, through PyNaCl), it reads as
noise to every other reader of the topic, to the broker's disks and to whoever copies a dead
letter; only finance's private key opens it. The keys sit in the stack's `auth/` folder beside
the signing keys (`box-<service>.key` and `.pub`), made by `StackKeys`.
"""

from __future__ import annotations

import base64
import functools
from pathlib import Path
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

SEALED_FOR = ("finance",)  # the services that receive sealed secrets


class Unsealable(Exception):
    """A sealed value this key cannot open (sealed for another key, or damaged)."""


def public_key_file(folder: Path, service: str) -> Path:
    return folder / f"box-{service}.pub"


def private_key_file(folder: Path, service: str) -> Path:
    return folder / f"box-{service}.key"


def make_keys(folder: Path, service: str) -> None:
    key = PrivateKey.generate()
    private = private_key_file(folder, service)
    private.write_text(base64.b64encode(bytes(key)).decode())
    private.chmod(0o600)
    public_key_file(folder, service).write_text(base64.b64encode(bytes(key.public_key)).decode())


def seal(folder: Path, service: str, secret: str) -> str:
    """`secret` sealed for `service`, as base64 text."""
    box = _box(public_key_file(folder, service), private=False)
    return base64.b64encode(box.encrypt(secret.encode())).decode()


def unseal(folder: Path, service: str, sealed: str) -> str:
    """What `seal` sealed for `service`; `Unsealable` if its key cannot open it."""
    box = _box(private_key_file(folder, service), private=True)
    try:
        return box.decrypt(base64.b64decode(sealed, validate=True)).decode()
    except (CryptoError, ValueError) as error:
        raise Unsealable(f"a sealed value {service}'s key cannot open: {error}") from error


def _box(path: Path, *, private: bool) -> SealedBox[Any]:
    # Built once per version of the key file: a message each must not cost a file read or a
    # key derivation (half of an unseal's time), and new keys are picked up when written.
    return _read_box(path, path.stat().st_mtime_ns, private)


@functools.lru_cache(maxsize=16)
def _read_box(path: Path, _version: int, private: bool) -> SealedBox[Any]:
    key = base64.b64decode(path.read_text())
    return SealedBox(PrivateKey(key) if private else PublicKey(key))
