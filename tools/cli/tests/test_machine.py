"""The bench's CPU accounting: a process tree's time includes children that already ended."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from keel_cli.machine import context_switches, cpu_seconds, tree_cpu_seconds

pytestmark = pytest.mark.unit

BURN = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"


def test_a_reaped_childs_cpu_stays_in_the_tree() -> None:
    """PostgreSQL's backends and autovacuum workers end during a bench; their CPU must not
    vanish from the postmaster's tally when they do."""
    me = os.getpid()
    own_before, tree_before = cpu_seconds(me), tree_cpu_seconds(me)

    subprocess.run([sys.executable, "-c", BURN], check=True)  # ran, ended, reaped

    child_time = (tree_cpu_seconds(me) - tree_before) - (cpu_seconds(me) - own_before)
    assert child_time >= 0.4


def test_context_switches_only_grow() -> None:
    before = context_switches()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert context_switches() > before
