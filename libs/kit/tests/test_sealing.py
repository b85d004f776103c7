"""Sealed for one service: only its private key opens what was sealed for it."""

from __future__ import annotations

import base64
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
