"""The collector's time is shown, and a service's start-up heap is kept out of its way."""

import gc

import pytest

from keel_kit.gc_tuning import YOUNG_THRESHOLD, settle_heap
from keel_kit.metrics import KitMetrics

pytestmark = pytest.mark.unit


def test_the_time_spent_collecting_is_counted_by_generation() -> None:
    registry = KitMetrics("order").registry

    def spent() -> float:
        return registry.get_sample_value("keel_gc_seconds_total", {"generation": "2"}) or 0.0

    before = spent()
    gc.collect()
    assert spent() > before


def test_the_start_up_heap_is_frozen_once_and_young_objects_collected_less_often() -> None:
    settle_heap()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    kept = [[n] for n in range(1000)]  # made after start-up: a second call freezes nothing
    settle_heap()
    assert kept
    assert gc.get_freeze_count() == frozen
