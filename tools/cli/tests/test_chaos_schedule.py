"""The chaos schedule: drawn from the seed alone, and every run covers every kind of fault."""

from __future__ import annotations

from collections import Counter

import pytest

from keel_cli.chaos.schedule import PAUSE_SECONDS, POLL_INTERVAL_SECONDS, draw
from keel_contracts import SERVICES

pytestmark = pytest.mark.unit


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    assert draw(7, 60, postgres=True) == draw(7, 60, postgres=True)
    assert draw(7, 60, postgres=True) != draw(8, 60, postgres=True)


def test_every_service_is_killed_once_and_every_other_fault_is_there() -> None:
    faults = draw(3, 60, postgres=True)

    assert sorted(f.target for f in faults if f.kind == "kill") == sorted(SERVICES)
    kinds = Counter(f.kind for f in faults)
    assert kinds == {
        "kill": 6,
        "broker": 1,
        "postgres": 1,
        "pause": 1,
        "stall": 1,
        "duplicate": 2,
        "poison": 3,
    }
    (pause,) = (f for f in faults if f.kind == "pause")
    assert pause.hold == PAUSE_SECONDS
    (stall,) = (f for f in faults if f.kind == "stall")
    assert stall.hold > POLL_INTERVAL_SECONDS  # past the poll interval of a chaos stack
    (kill,) = (f for f in faults if f.kind == "kill" and f.target == stall.target)
    assert stall.at > kill.at + kill.hold  # a process the run restarted, not killed mid-stall


def test_faults_come_in_time_order_within_the_first_80_percent_of_the_load() -> None:
    faults = draw(11, 100, postgres=False)

    assert [f.at for f in faults] == sorted(f.at for f in faults)
    assert all(1.0 <= f.at <= 80.0 for f in faults)
    # SQLite has no server to stop, nor a lock that stalls the consumer alone
    assert not {"postgres", "stall"} & {f.kind for f in faults}
