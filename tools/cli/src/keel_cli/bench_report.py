"""How a `keel bench` report is kept and shown: the whole of it as JSON under bench/results/
and on stdout, then the few lines a person reads first."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel_cli.bench_ceilings import describe_kafka, describe_postgres


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def dumps(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, default=str)


def publish(report: Mapping[str, Any], results: Path, say: Callable[[str], None]) -> bool:
    """Write the report to `results`, print it and its summary; whether it is a valid
    measurement (its pipeline drained)."""
    out = results / f"keel-bench-{stamp()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps(report))
    print(dumps(report))
    for line in summary(report):
        say(line)
    say(f"report written to {out}")
    if report["complete"]:
        return True
    # Figures from a pipeline that never caught up are not throughput: say so, loudly.
    say(
        "[bold red]INCOMPLETE RUN: the pipeline did not drain, so the throughput and "
        "latency figures above are not valid.[/]"
    )
    for reason in report["incomplete_reasons"]:
        say(f"[red]  - {reason}")
    return False


def cpu_between(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """CPU seconds each process spent between two readings."""
    return {name: round(after[name] - before[name], 1) for name in before}


def cpu_ms_per_order(cpu_seconds: Mapping[str, float], orders: int) -> float | None:
    """CPU of every process measured (the bench driver's included) per accepted order."""
    return round(sum(cpu_seconds.values()) * 1000 / orders, 2) if orders else None


def summary(report: Mapping[str, Any]) -> list[str]:
    """The report's headline figures, one line each, in the order they were measured."""
    lines = []
    ceilings = report.get("ceilings")
    if ceilings:
        lines.append(f"ceiling: PostgreSQL {describe_postgres(ceilings['postgres'])}")
        lines.append(f"ceiling: Kafka {describe_kafka(ceilings['kafka'])}")
    ratios = report.get("trace_sample_ratio")
    if ratios:
        shown = ", ".join(f"{s} {'absent' if r is None else r}" for s, r in ratios.items())
        lines.append(f"trace sample ratio: {shown}")
    for run in report.get("runs", []):
        lines += _run_lines(run)
    warehouse = report.get("warehouse")
    if warehouse:
        lines.append(
            f"warehouse (the bench): {warehouse['reported_shipped']} shipments reported shipped, "
            f"fulfillment answered in p50 {warehouse['answer_p50_ms']} ms, p99 "
            f"{warehouse['answer_p99_ms']} ms; not reported: {warehouse['not_reported'] or 0}"
        )
    if report.get("cpu_ms_per_accepted_order") is not None:
        lines.append(
            f"CPU per accepted order: {report['cpu_ms_per_accepted_order']} ms "
            "(every process measured, the bench driver included)"
        )
    return lines


def _run_lines(run: Mapping[str, Any]) -> list[str]:
    def p(name: str, share: str) -> str:
        value = run[name][f"{share}_ms"]
        return "-" if value is None else f"{value:,.0f} ms"

    lines = [
        f"{run['name']}: accepted {run['accepted_per_s']}/s, through to a shipment "
        f"{run['shipment_created_per_s']}/s, through to the journal posting "
        f"{run['journal_posted_per_s']}/s; accept→confirmed p50 "
        f"{p('accept_to_confirmed', 'p50')} p95 {p('accept_to_confirmed', 'p95')} "
        f"p99 {p('accept_to_confirmed', 'p99')}; accept→posted p50 "
        f"{p('accept_to_journal_posted', 'p50')} p95 {p('accept_to_journal_posted', 'p95')} "
        f"p99 {p('accept_to_journal_posted', 'p99')}"
    ]
    if run.get("cpu_ms_per_accepted_order") is not None:
        lines.append(
            f"  this run, per accepted order: {run['cpu_ms_per_accepted_order']} ms of CPU, "
            f"{run['context_switches_per_order']} context switches"
        )
    per_window = run["per_window"]
    lines.append(
        f"  per {per_window['window_s']:.0f} s window, per second: accepted / confirmed / "
        "shipped / journal-posted"
    )
    for w in per_window["windows"]:
        figures = " / ".join(
            _rate(w[f"{kind}_per_s"])
            for kind in ("accepted", "confirmed", "shipped", "journal_posted")
        )
        tail = "" if w["offering"] else "  (draining: no more orders offered)"
        lines.append(f"  {w['from_s']:>6.0f}-{w['to_s']:<6.0f}s {figures}{tail}")
    hot = run.get("hot_sku")
    if hot:
        short = hot["short_of_stock"]
        lines.append(
            f"hot sku {hot['sku']}: {hot['units_received']} units at {hot['location_id']}; "
            f"{hot['orders_reserved']} orders reserved at {hot['reservations_per_s']}/s; short "
            f"of stock: {short['backordered']} backordered, {short['rejected']} rejected"
        )
        lines.append(f"hot sku: {hot['verdict']}")
    return lines


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
