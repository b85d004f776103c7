"""A bench run counts only if its pipeline drained: every order shipped, no consumer behind."""

from __future__ import annotations

import pytest

from keel_cli import bench
from keel_cli.bench_load import Run
from keel_kit.kafka_access import KafkaAccess

pytestmark = pytest.mark.unit

NO_LAG = {"order": 0.0, "inventory": 0.0, "finance": 0.0}


def test_run_with_every_order_shipped_and_no_lag_is_complete() -> None:
    state = bench.drain_state(["o1", "o2"], {"o1", "o2", "other"}, NO_LAG)
    assert state == {
        "complete": True,
        "accepted": 2,
        "orders_without_shipment": 0,
        "consumer_lag_left": {},
    }


def test_orders_without_a_shipment_make_the_run_incomplete() -> None:
    state = bench.drain_state(["o1", "o2", "o3"], {"o2"}, NO_LAG)
    assert state["complete"] is False
    assert state["orders_without_shipment"] == 2


def test_consumer_lag_left_makes_the_run_incomplete_and_names_the_laggards() -> None:
    state = bench.drain_state(["o1"], {"o1"}, {**NO_LAG, "finance": 340.0})
    assert state["complete"] is False
    assert state["consumer_lag_left"] == {"finance": 340.0}


def test_unreadable_lag_proves_nothing_so_the_run_is_incomplete() -> None:
    state = bench.drain_state(["o1"], {"o1"}, {**NO_LAG, "returns": None})
    assert state["complete"] is False
    assert state["consumer_lag_left"] == {"returns": None}


def test_complete_runs_give_no_reason() -> None:
    drained = bench.drain_state(["o1"], {"o1"}, NO_LAG)
    assert bench.incomplete_reasons({"fixed rate": drained, "saturation": drained}) == []


def test_reasons_say_which_run_and_what_was_left() -> None:
    drained = bench.drain_state(["o1"], {"o1"}, NO_LAG)
    stuck = bench.drain_state(["o1", "o2", "o3"], {"o1"}, {"finance": 12.0, "returns": None})
    reasons = bench.incomplete_reasons({"fixed rate": drained, "saturation": stuck})
    assert reasons == [
        "saturation: 2 of 3 accepted orders never reached a shipment; "
        "consumer lag left: finance 12, returns unreadable"
    ]


def _run_with(accepted: list[str], shipped: list[str]) -> tuple[Run, bench.EventClock]:
    run = Run("fixed rate", 10.0, 5.0, accepted={o: 0.0 for o in accepted})
    clock = bench.EventClock(KafkaAccess("never-contacted:9092"))
    clock.seen["shipment.created"].update({o: 1.0 for o in shipped})
    return run, clock


@pytest.mark.asyncio
async def test_drain_waits_for_lag_to_reach_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = iter([{"finance": 50.0}, {"finance": 5.0}, {"finance": 0.0}])
    reads = []

    async def lag(services: tuple[str, ...]) -> dict[str, float | None]:
        reads.append(services)
        return dict(next(readings))

    monkeypatch.setattr(bench, "_lag", lag)
    run, clock = _run_with(["o1"], ["o1"])

    state = await bench._drain(run, clock, ("finance",), patience=60, poll=0)

    assert state["complete"] is True
    assert len(reads) == 3


@pytest.mark.asyncio
async def test_drain_that_runs_out_of_patience_reports_what_was_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def lag(services: tuple[str, ...]) -> dict[str, float | None]:
        return {"fulfillment": 80.0}

    monkeypatch.setattr(bench, "_lag", lag)
    run, clock = _run_with(["o1", "o2"], ["o1"])

    state = await bench._drain(run, clock, ("fulfillment",), patience=0)

    assert state == {
        "complete": False,
        "accepted": 2,
        "orders_without_shipment": 1,
        "consumer_lag_left": {"fulfillment": 80.0},
    }
