"""`keel token` prints one staff token the services accept, and refuses what no person gets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keel_cli.main import app
from keel_contracts.roles import Role
from keel_kit.identity import KeySource, Principal, TokenRules, TokenVerifier
from keel_kit.signing import ALGORITHM, AUDIENCE, LOCAL_ISSUER

pytestmark = pytest.mark.unit


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state_dir = tmp_path / "state"
    monkeypatch.setenv("KEEL_STATE_DIR", str(state_dir))
    return state_dir


def verified(token: str, state_dir: Path) -> Principal:
    """The principal a service reading the stack's keys takes the token for."""
    keys = KeySource(file=state_dir / "data" / "auth" / "jwks.json")
    rules = TokenRules(
        issuer=LOCAL_ISSUER, audience=AUDIENCE, algorithms=(ALGORITHM,), role_claim="role"
    )
    return asyncio.run(TokenVerifier(keys, rules).principal(token))


def test_token_prints_one_token_the_services_accept_for_that_person(state_dir: Path) -> None:
    result = CliRunner().invoke(app, ["token", "--user", "walt", "--role", "warehouse"])

    assert result.exit_code == 0, result.output
    [token] = result.stdout.split()
    assert verified(token, state_dir) == Principal("walt", frozenset({Role.WAREHOUSE}))


def test_token_for_a_service_is_refused(state_dir: Path) -> None:
    result = CliRunner().invoke(app, ["token", "--user", "finance", "--role", "service"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "services sign their own" in " ".join(result.stderr.split())


def test_token_lasting_years_is_refused(state_dir: Path) -> None:
    result = CliRunner().invoke(app, ["token", "--user", "ann", "--role", "admin", "--ttl", "9y"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "is not a duration" in " ".join(result.stderr.split())
