"""What the bench reads from /metrics: consumer lag and the trace sample ratio."""

from __future__ import annotations

import pytest

from keel_cli.bench_metrics import LAG, TRACE_SAMPLE_RATIO, sample_ratio, samples

pytestmark = pytest.mark.unit

METRICS = f"""\
# HELP {LAG} messages not yet applied
# TYPE {LAG} gauge
{LAG}{{topic="orders.order.v1",partition="0"}} 3.0
{LAG}{{topic="orders.order.v1",partition="1"}} 4.0
{LAG}_seconds 99.0
# HELP {TRACE_SAMPLE_RATIO} share of traces recorded
# TYPE {TRACE_SAMPLE_RATIO} gauge
{TRACE_SAMPLE_RATIO} 0.01
"""


def test_samples_of_a_metric_with_labels_and_not_its_namesakes() -> None:
    assert samples(METRICS, LAG) == [3.0, 4.0]


def test_the_trace_sample_ratio_is_read_from_its_gauge() -> None:
    assert sample_ratio(METRICS) == 0.01


def test_a_labelled_trace_sample_ratio_is_read_too() -> None:
    assert sample_ratio(f'{TRACE_SAMPLE_RATIO}{{service="order"}} 1.0\n') == 1.0


def test_a_service_without_the_gauge_or_without_an_answer_gives_none() -> None:
    assert sample_ratio(f"{LAG} 0.0\n") is None
    assert sample_ratio(None) is None
