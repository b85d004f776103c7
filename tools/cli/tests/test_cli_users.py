"""`keel user`: people who sign in to the local console, in its own database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from keel_cli.main import app

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEEL_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("KEEL_CONSOLE_DATABASE_URL", raising=False)
    return tmp_path


def user(*args: str, password: str = "a long local password") -> Result:
    return CliRunner().invoke(app, ["user", *args], input=password + "\n")


def test_a_person_is_added_listed_changed_and_removed(state: Path) -> None:
    added = user("add", "olga", "--role", "operations", "--password-stdin")
    assert added.exit_code == 0, added.output
    assert "added olga (operations); sign in at http://127.0.0.1:8100/signin" in added.output
    assert (state / "data" / "console.db").exists()
    changed = user("add", "olga", "--role", "finance", "--password-stdin")
    assert "updated olga (finance)" in changed.output

    listed = user("list")
    assert "olga" in listed.output
    assert "finance" in listed.output
    assert user("remove", "olga").exit_code == 0
    assert "olga" not in user("list").output
    gone = user("remove", "olga")
    assert gone.exit_code == 1
    assert "no user olga" in gone.output


def test_the_password_is_asked_twice_without_stdin() -> None:
    result = CliRunner().invoke(
        app,
        ["user", "add", "olga", "--role", "operations"],
        input="a long local password\na long local password\n",
    )
    assert result.exit_code == 0, result.output
    mismatch = CliRunner().invoke(
        app,
        ["user", "add", "ivan", "--role", "operations"],
        input="a long local password\nanother one entirely\n",
    )
    assert mismatch.exit_code != 0


@pytest.mark.parametrize(
    ("args", "password", "said"),
    [
        (["olga", "--role", "operations"], "short", "a password is 12 to 200 characters"),
        ([" olga", "--role", "operations"], "a long local password", "no surrounding spaces"),
        (["service:order", "--role", "operations"], "a long local password", "not a service"),
    ],
)
def test_an_unfit_account_is_refused_saying_why(args: list[str], password: str, said: str) -> None:
    result = user("add", *args, "--password-stdin", password=password)
    assert result.exit_code == 1
    assert said in " ".join(result.output.split())


@pytest.mark.parametrize("role", ["service", "channel", "emperor"])
def test_only_a_persons_role_is_taken(role: str) -> None:
    result = user("add", "olga", "--role", role, "--password-stdin")
    assert result.exit_code == 2
