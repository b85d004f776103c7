"""Sealed for one service: only its private key opens what was sealed for it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from keel_kit import sealing
from keel_kit.signing import StackKeys

pytestmark = pytest.mark.unit


def test_the_stack_keys_include_finances_sealing_key(tmp_path: Path) -> None:
    keys = StackKeys.ensure(tmp_path / "auth")

    sealed = sealing.seal(keys.folder, "finance", "tok_visa")

    assert "tok_visa" not in sealed
    assert sealing.unseal(keys.folder, "finance", sealed) == "tok_visa"
    assert sealing.seal(keys.folder, "finance", "tok_visa") != sealed  # fresh each time
    assert oct(sealing.private_key_file(keys.folder, "finance").stat().st_mode)[-3:] == "600"


def test_another_key_or_a_damaged_seal_cannot_be_opened(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder in (ours, theirs):
        folder.mkdir()
        sealing.make_keys(folder, "finance")
    sealed = sealing.seal(theirs, "finance", "tok_visa")
    raw = bytearray(base64.b64decode(sealing.seal(ours, "finance", "tok_visa")))
    raw[-1] ^= 1

    for bad in (sealed, base64.b64encode(bytes(raw)).decode(), "not base64 at all!"):
        with pytest.raises(sealing.Unsealable):
            sealing.unseal(ours, "finance", bad)


def test_new_keys_are_used_once_written(tmp_path: Path) -> None:
    sealing.make_keys(tmp_path, "finance")
    old = sealing.seal(tmp_path, "finance", "tok_visa")
    assert sealing.unseal(tmp_path, "finance", old) == "tok_visa"

    for key_file in (sealing.private_key_file, sealing.public_key_file):
        key_file(tmp_path, "finance").unlink()
    sealing.make_keys(tmp_path, "finance")
    for key_file in (sealing.private_key_file, sealing.public_key_file):
        # Written later: a file's time may not move within one tick of the kernel's clock.
        path = key_file(tmp_path, "finance")
        later = path.stat().st_mtime_ns + 1_000_000_000
        os.utime(path, ns=(later, later))

    with pytest.raises(sealing.Unsealable):
        sealing.unseal(tmp_path, "finance", old)
    assert sealing.unseal(tmp_path, "finance", sealing.seal(tmp_path, "finance", "x")) == "x"
