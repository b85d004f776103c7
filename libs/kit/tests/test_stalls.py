"""A partition whose batches keep failing raises an alarm, cleared once one is applied."""

from __future__ import annotations

import pytest

from keel_kit.metrics import KitMetrics
from keel_kit.stalls import StallWatch

pytestmark = pytest.mark.unit

ORDERS_3 = ("orders.order.v1", 3)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stalled_seconds(metrics: KitMetrics) -> float | None:
    return metrics.registry.get_sample_value(
        "keel_partition_stalled_seconds", {"topic": "orders.order.v1", "partition": "3"}
    )


def test_a_partition_failing_past_the_threshold_raises_an_alarm() -> None:
    clock, metrics = Clock(), KitMetrics("order")
    watch = StallWatch(metrics, alarm_after=300, clock=clock)

    watch.failed([ORDERS_3, ORDERS_3])
    clock.now += 120
    watch.failed([ORDERS_3])
    assert watch.alarms() == []  # failing for two minutes: retries, not yet an alarm
    assert stalled_seconds(metrics) == 120

    clock.now += 200
    watch.failed([ORDERS_3])
    assert watch.alarms() == ["orders.order.v1[3] stalled for 320s"]
    assert stalled_seconds(metrics) == 320


def test_a_batch_applied_clears_the_alarm() -> None:
    clock, metrics = Clock(), KitMetrics("order")
    watch = StallWatch(metrics, alarm_after=300, clock=clock)
    watch.failed([ORDERS_3])
    clock.now += 400

    watch.moved([ORDERS_3, ("orders.order.v1", 4)])

    assert watch.alarms() == []
    assert stalled_seconds(metrics) == 0
    clock.now += 400
    watch.failed([ORDERS_3])  # a new stall counts from its own first failure
    assert watch.alarms() == []
