"""A bench run counts only if its pipeline drained: every order's sale posted to the journal (or
the order answered short of stock), no consumer behind."""

from __future__ import annotations

import asyncio

import pytest

from keel_cli import bench, bench_metrics
from keel_cli.bench_clock import POSTED, EventClock
from keel_cli.bench_load import Run
from keel_kit.kafka_access import KafkaAccess

pytestmark = pytest.mark.unit

NO_LAG = {"order": 0.0, "inventory": 0.0, "finance": 0.0}


def test_run_with_every_order_posted_and_no_lag_is_complete() -> None:
    state = bench.drain_state(["o1", "o2"], {"o1": 1.0, "o2": 1.0, "other": 1.0}, {}, NO_LAG)
    assert state == {
        "complete": True,
        "accepted": 2,
        "journal_posted": 2,
        "short_of_stock": {"backordered": 0, "rejected": 0},
        "orders_without_posting": 0,
        "consumer_lag_left": {},
    }


def test_orders_without_a_posting_make_the_run_incomplete() -> None:
    state = bench.drain_state(["o1", "o2", "o3"], {"o2": 1.0}, {}, NO_LAG)
    assert state["complete"] is False
    assert state["orders_without_posting"] == 2


def test_orders_short_of_stock_are_counted_apart_and_not_waited_for() -> None:
    short = {"o2": "backordered", "o3": "rejected", "o4": "backordered"}
    state = bench.drain_state(["o1", "o2", "o3", "o4"], {"o1": 1.0}, short, NO_LAG)
    assert state["complete"] is True
    assert state["short_of_stock"] == {"backordered": 2, "rejected": 1}
    assert state["orders_without_posting"] == 0


def test_consumer_lag_left_makes_the_run_incomplete_and_names_the_laggards() -> None:
    state = bench.drain_state(["o1"], {"o1": 1.0}, {}, {**NO_LAG, "finance": 340.0})
    assert state["complete"] is False
    assert state["consumer_lag_left"] == {"finance": 340.0}


def test_unreadable_lag_proves_nothing_so_the_run_is_incomplete() -> None:
    state = bench.drain_state(["o1"], {"o1": 1.0}, {}, {**NO_LAG, "returns": None})
    assert state["complete"] is False
    assert state["consumer_lag_left"] == {"returns": None}


def test_complete_runs_give_no_reason() -> None:
    drained = bench.drain_state(["o1"], {"o1": 1.0}, {}, NO_LAG)
    assert bench.incomplete_reasons({"fixed rate": drained, "saturation": drained}) == []


def test_reasons_say_which_run_and_what_was_left() -> None:
    drained = bench.drain_state(["o1"], {"o1": 1.0}, {}, NO_LAG)
    stuck = bench.drain_state(
        ["o1", "o2", "o3"], {"o1": 1.0}, {}, {"finance": 12.0, "returns": None}
    )
    reasons = bench.incomplete_reasons({"fixed rate": drained, "saturation": stuck})
    assert reasons == [
        "saturation: 2 of 3 accepted orders never reached their sale's journal posting; "
        "consumer lag left: finance 12, returns unreadable"
    ]


def _run_with(accepted: list[str], posted: list[str]) -> tuple[Run, EventClock]:
    run = Run("fixed rate", 10.0, 5.0, accepted={o: 0.0 for o in accepted})
    clock = EventClock(KafkaAccess("never-contacted:9092"))
    clock.seen[POSTED].update({o: 1.0 for o in posted})
    return run, clock


@pytest.mark.asyncio
async def test_drain_waits_for_lag_to_reach_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = iter([{"finance": 50.0}, {"finance": 5.0}, {"finance": 0.0}])
    reads = []

    async def lag(services: tuple[str, ...]) -> dict[str, float | None]:
        reads.append(services)
        return dict(next(readings))

    monkeypatch.setattr(bench_metrics, "lag", lag)
    run, clock = _run_with(["o1"], ["o1"])

    state = await bench._drain(run, clock, ("finance",), patience=60, poll=0)

    assert state["complete"] is True
    assert len(reads) == 3


@pytest.mark.asyncio
async def test_drain_reads_no_lag_while_orders_are_unsettled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = []

    async def lag(services: tuple[str, ...]) -> dict[str, float | None]:
        reads.append(services)
        return {"finance": 0.0}

    monkeypatch.setattr(bench_metrics, "lag", lag)
    run, clock = _run_with(["o1", "o2"], ["o1"])
    polls = 0

    async def posting_later(seconds: float) -> None:
        nonlocal polls
        polls += 1
        if polls == 3:
            clock.seen[POSTED]["o2"] = 2.0

    monkeypatch.setattr(asyncio, "sleep", posting_later)

    state = await bench._drain(run, clock, ("finance",), patience=60, poll=0)

    assert state["complete"] is True
    assert len(reads) == 1


@pytest.mark.asyncio
async def test_drain_that_runs_out_of_patience_reports_what_was_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def lag(services: tuple[str, ...]) -> dict[str, float | None]:
        return {"fulfillment": 80.0}

    monkeypatch.setattr(bench_metrics, "lag", lag)
    run, clock = _run_with(["o1", "o2"], ["o1"])

    state = await bench._drain(run, clock, ("fulfillment",), patience=0)

    assert state == {
        "complete": False,
        "accepted": 2,
        "journal_posted": 1,
        "short_of_stock": {"backordered": 0, "rejected": 0},
        "orders_without_posting": 1,
        "consumer_lag_left": {"fulfillment": 80.0},
    }
