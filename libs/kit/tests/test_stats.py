"""One percentile definition for every figure Keel reports."""

import pytest

from keel_kit.stats import percentile

pytestmark = pytest.mark.unit


def test_percentiles_interpolate_between_the_nearest_ranks() -> None:
    values = [1000.0, 100.0, 400.0, 200.0]
    assert percentile(values, 0.5) == 300.0
    assert percentile(values, 0.95) == pytest.approx(910.0)
    assert percentile(values, 0.0) == 100.0
    assert percentile(values, 1.0) == 1000.0
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) is None
