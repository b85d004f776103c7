"""The bench's report: kept under bench/results/, and its headline figures said first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel_cli.bench_report import cpu_between, cpu_ms_per_order, publish, summary

pytestmark = pytest.mark.unit


def _latency(p50: float | None, p95: float | None, p99: float | None) -> dict[str, Any]:
    return {"count": 1, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}


def _run(**extra: Any) -> dict[str, Any]:
    return {
        "name": "saturation",
        "accepted_per_s": 300.0,
        "shipment_created_per_s": 250.0,
        "journal_posted_per_s": 200.5,
        "accept_to_confirmed": _latency(120.0, 301.0, 480.4),
        "accept_to_journal_posted": _latency(None, None, None),
        "per_window": {
            "window_s": 30.0,
            "windows": [
                {
                    "from_s": 0,
                    "to_s": 30,
                    "offering": True,
                    "accepted_per_s": 300.0,
                    "confirmed_per_s": 290.0,
                    "shipped_per_s": 250.0,
                    "journal_posted_per_s": None,
                },
                {
                    "from_s": 30,
                    "to_s": 41,
                    "offering": False,
                    "accepted_per_s": 0.0,
                    "confirmed_per_s": 10.0,
                    "shipped_per_s": 40.0,
                    "journal_posted_per_s": 60.0,
                },
            ],
        },
        **extra,
    }


def test_summary_says_the_ceilings_first_then_each_run() -> None:
    report = {
        "ceilings": {
            "postgres": {"tps": None, "not_applicable": "the stack runs on sqlite"},
            "kafka": {
                "produce_per_s": 41000.0,
                "consume_per_s": 150000.0,
                "workload": "600-byte records",
            },
        },
        "trace_sample_ratio": {"order": 0.01, "finance": None},
        "runs": [_run(cpu_ms_per_accepted_order=8.25, context_switches_per_order=96.5)],
        "cpu_ms_per_accepted_order": 10.4,
    }

    lines = summary(report)

    assert lines[0] == "ceiling: PostgreSQL ceiling not applicable: the stack runs on sqlite"
    assert lines[1] == (
        "ceiling: Kafka produce 41,000 msg/s, consume 150,000 msg/s (600-byte records)"
    )
    assert lines[2] == "trace sample ratio: order 0.01, finance absent"
    assert "through to the journal posting 200.5/s" in lines[3]
    assert "accept→confirmed p50 120 ms p95 301 ms p99 480 ms" in lines[3]
    assert "accept→posted p50 - p95 - p99 -" in lines[3]
    assert lines[4] == "  this run, per accepted order: 8.25 ms of CPU, 96.5 context switches"
    assert lines[6].split() == ["0-30", "s", "300.0", "/", "290.0", "/", "250.0", "/", "-"]
    assert lines[7].endswith("(draining: no more orders offered)")
    assert lines[-1].startswith("CPU per accepted order: 10.4 ms")


def test_summary_of_a_hot_sku_run_says_the_verdict() -> None:
    hot = {
        "sku": "HOT1",
        "units_received": 2000,
        "location_id": "WH-EAST",
        "orders_reserved": 2000,
        "reservations_per_s": 180.2,
        "short_of_stock": {"backordered": 4100, "rejected": 0},
        "verdict": "0 units oversold: the stock ran out and no unit was promised twice",
    }

    lines = summary({"runs": [_run(hot_sku=hot)]})

    assert lines[-2] == (
        "hot sku HOT1: 2000 units at WH-EAST; 2000 orders reserved at 180.2/s; "
        "short of stock: 4100 backordered, 0 rejected"
    )
    assert lines[-1] == (
        "hot sku: 0 units oversold: the stock ran out and no unit was promised twice"
    )


def test_cpu_per_order_counts_every_process() -> None:
    assert cpu_ms_per_order({"order": 3.0, "kafka": 1.0, "bench driver": 1.0}, 1000) == 5.0
    assert cpu_ms_per_order({"order": 3.0}, 0) is None


def test_cpu_between_two_readings_is_per_process() -> None:
    before = {"order": 10.0, "kafka": 4.25}
    after = {"order": 12.5, "kafka": 4.25}

    assert cpu_between(before, after) == {"order": 2.5, "kafka": 0.0}


def test_publish_keeps_the_report_and_says_whether_it_is_valid(tmp_path: Path) -> None:
    said: list[str] = []
    report = {"complete": False, "incomplete_reasons": ["saturation: lag"], "runs": []}

    valid = publish(report, tmp_path / "results", said.append)

    (written,) = (tmp_path / "results").glob("keel-bench-*.json")
    assert json.loads(written.read_text()) == report
    assert valid is False
    assert any("INCOMPLETE RUN" in line for line in said)
    assert said[-1] == "[red]  - saturation: lag"
