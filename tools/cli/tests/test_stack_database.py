"""Which database `keel up` brings the stack up on, and how a state folder remembers it."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel_cli import stack
from keel_cli.runtime import postgres, processes

pytestmark = pytest.mark.unit


def _config(state_dir: Path, database: str) -> stack.StackConfig:
    return stack.StackConfig(state_dir=state_dir, database=database)


def test_unsaid_database_without_a_record_is_sqlite() -> None:
    chosen = stack.pick_database(explicit=None, recorded=None, services_running=False)
    assert chosen == "sqlite"


def test_unsaid_database_after_a_crash_is_the_recorded_one() -> None:
    chosen = stack.pick_database(explicit=None, recorded="postgres", services_running=False)
    assert chosen == "postgres"


def test_unsaid_database_while_services_run_is_the_recorded_one() -> None:
    chosen = stack.pick_database(explicit=None, recorded="postgres", services_running=True)
    assert chosen == "postgres"


def test_explicit_database_wins_when_no_service_runs() -> None:
    chosen = stack.pick_database(explicit="sqlite", recorded="postgres", services_running=False)
    assert chosen == "sqlite"


def test_explicit_database_matching_the_running_stack_is_accepted() -> None:
    chosen = stack.pick_database(explicit="postgres", recorded="postgres", services_running=True)
    assert chosen == "postgres"


def test_explicit_database_other_than_the_running_stacks_is_a_conflict() -> None:
    with pytest.raises(stack.DatabaseConflict) as raised:
        stack.pick_database(explicit="sqlite", recorded="postgres", services_running=True)
    message = str(raised.value)
    assert "already runs on postgres" in message
    assert "keel down" in message


def test_recorded_database_reads_what_up_recorded(tmp_path: Path) -> None:
    stack.record_database(_config(tmp_path, "postgres"))
    assert stack.recorded_database(tmp_path) == "postgres"


def test_recorded_database_is_none_in_a_fresh_state_folder(tmp_path: Path) -> None:
    assert stack.recorded_database(tmp_path) is None


def test_a_garbled_record_is_not_trusted(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "database").write_text("oracle\n")
    assert stack.recorded_database(tmp_path) is None


def test_own_postgres_still_running_counts_as_a_record_when_the_marker_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def only_postgres_alive(name: str, *, state_dir: Path) -> bool:
        return name == postgres.NAME and state_dir == tmp_path

    monkeypatch.setattr(processes, "is_running", only_postgres_alive)
    assert stack.recorded_database(tmp_path) == "postgres"


def test_forgetting_the_database_leaves_no_record(tmp_path: Path) -> None:
    stack.record_database(_config(tmp_path, "postgres"))
    stack.forget_database(tmp_path)
    assert stack.recorded_database(tmp_path) is None


def test_choose_database_sees_running_services_in_the_state_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.record_database(_config(tmp_path, "postgres"))
    monkeypatch.setattr(processes, "is_running", lambda name, *, state_dir: name == "order")
    with pytest.raises(stack.DatabaseConflict):
        stack.choose_database(tmp_path, "sqlite")
    assert stack.choose_database(tmp_path, None) == "postgres"
