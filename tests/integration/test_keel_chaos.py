"""`keel chaos`: a short seeded run on PostgreSQL, every kind of fault, then `keel check`."""

import json
from pathlib import Path

import pytest

from keel_cli import stack
from keel_cli.runtime.processes import port_open
from tests.integration.support import keel

pytestmark = pytest.mark.integration


def test_a_short_seeded_chaos_run_ends_with_every_invariant_holding(tmp_path: Path) -> None:
    taken = [p for p in (9092, 5432, *stack.PORTS.values()) if port_open("127.0.0.1", p)]
    assert not taken, f"ports {taken} are busy: stop the running stack (keel down) first"
    state_dir, result_file = tmp_path / "state", tmp_path / "chaos.json"
    try:
        chaos = keel(
            state_dir,
            "chaos",
            "--seed=1",
            "--duration=30",
            "--rate=8",
            "--database=postgres",
            f"--out={result_file}",
            timeout=900,
        )
        assert chaos.returncode == 0, chaos.stdout[-4000:] + chaos.stderr[-3000:]
        result = json.loads(result_file.read_text())
        assert result["ok"] is True
        assert result["violations"] == []
        assert result["faults_by_kind"] == {
            "kill": 6,
            "broker": 1,
            "postgres": 1,
            "pause": 1,
            "stall": 1,
            "duplicate": 2,
            "poison": 3,
        }
        assert result["orders_accepted"] > 100
        assert "no violations" in chaos.stdout

        check = keel(state_dir, "check", "--json", timeout=300)
        assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
        report = json.loads(check.stdout)
        assert report["ok"] is True
        assert any("every accepted order is settled" in c for c in report["checked"])
        # Only the poison the run sent is dead-lettered: a warning each, not a violation.
        assert all(w["source"] == "kafka" for w in report["warnings"])
    finally:
        down = keel(state_dir, "down")
    assert down.returncode == 0, down.stdout + down.stderr
