"""Keel's Prometheus rules load, and behave as their unit tests say (promtool, from Debian's
`prometheus` package, the Prometheus `keel up` runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.promtool import promtool

pytestmark = pytest.mark.contract

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def test_the_rules_load() -> None:
    checked = promtool("check", "rules", str(RULES / "rules" / "keel.rules.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_the_rules_fire_as_their_unit_tests_expect() -> None:
    tested = promtool("test", "rules", "keel.test.yml", cwd=RULES / "tests")
    assert tested.returncode == 0, tested.stdout + tested.stderr
