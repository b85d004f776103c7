"""The dashboards in deploy/grafana/dashboards load in Grafana and ask Prometheus only for series
that exist: the kit's and the services' metrics (read from the code) and the recording rules.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from prometheus_client.registry import Collector

from keel_contracts import SERVICES
from keel_kit.kpis import Kpis
from keel_kit.metrics import KitMetrics
from tests.deploy.promtool import promtool
from tests.deploy.test_deploy_parity import ROOT

pytestmark = pytest.mark.contract

DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules"
DATASOURCE = {"type": "prometheus", "uid": "keel-prometheus"}
PANEL_TYPES = {"timeseries", "stat", "bargauge"}
# The recording rules issue 11 agreed on, written in deploy/prometheus/rules/keel.rules.yml.
RECORDED = {
    "keel:http_requests:rate5m",
    "keel:http_error_ratio:rate5m",
    "keel:consumer_lag:max",
    "keel:fill_rate:ratio_1h",
    "keel:orders_accepted:rate5m",
}
# The sample names Prometheus stores for one metric family of each type.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gauge": ("",),
}
# Grafana's variables, replaced as Grafana would before Prometheus sees the query.
VARIABLES = {"$__rate_interval": "5m", "$service": ".*"}
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
NAME = re.compile(r"[a-zA-Z_:][\w:]*(?![\w:])(?!\s*\()")  # a name not called as a function
KEYWORDS = {"bool", "offset", "and", "or", "unless", "inf", "nan"}

Doc = dict[str, Any]


def collectors() -> Iterator[Collector]:
    yield KitMetrics("any").registry
    for name in SERVICES:
        try:
            importlib.import_module(f"keel_{name}.kpis")
        except ModuleNotFoundError:
            continue  # a service with no business metrics of its own
    for kpis in Kpis.__subclasses__():
        yield kpis()


@cache
def exposed() -> frozenset[str]:
    """Every sample name the services expose, whether or not a sample exists yet."""
    names = set()
    for collector in collectors():
        for family in collector.collect():
            names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
            names |= {sample.name for sample in family.samples}
    return frozenset(names)


def dashboard(path: Path) -> Doc:
    return cast(Doc, json.loads(path.read_text(encoding="utf-8")))


def panels(board: Doc) -> list[Doc]:
    return [p for p in board["panels"] if p["type"] != "row"]


def expressions() -> Iterator[str]:
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in panels(dashboard(path)):
            yield from (target["expr"] for target in panel["targets"])


def series_read(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (without Grafana's variables)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", bare)
    bare = GROUPING.sub("", bare)
    return {name for name in NAME.findall(bare) if name.lower() not in KEYWORDS}


def test_the_three_dashboards_exist_with_distinct_uids() -> None:
    names = sorted(path.stem for path in DASHBOARDS.glob("*.json"))
    assert names == ["business-kpis", "kafka-outbox", "order-pipeline"]
    uids = [dashboard(path)["uid"] for path in DASHBOARDS.glob("*.json")]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("path", sorted(DASHBOARDS.glob("*.json")), ids=lambda p: p.stem)
def test_dashboard_is_grafana_json_on_the_keel_datasource(path: Path) -> None:
    board = dashboard(path)
    assert board["schemaVersion"] == 39
    assert board["title"]
    assert board["uid"]
    ids = [p["id"] for p in board["panels"]]
    assert len(set(ids)) == len(ids)
    for variable in board["templating"]["list"]:
        assert variable["datasource"] == DATASOURCE
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & area, f"{panel['title']} overlaps another panel"
        cells |= area
    for panel in panels(board):
        assert panel["type"] in PANEL_TYPES, panel["title"]
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
            assert target["refId"], panel["title"]
            assert target["expr"], panel["title"]


@pytest.mark.parametrize("expr", sorted(set(expressions())), ids=lambda e: e[:60])
def test_query_reads_only_series_that_exist(expr: str) -> None:
    read = series_read(expr)
    assert any(name.startswith(("keel_", "keel:", "process_")) for name in read), read
    assert read <= exposed() | RECORDED, read - exposed() - RECORDED


def test_the_rules_record_every_series_the_dashboards_read() -> None:
    files = sorted(RULES.glob("*.rules.yml"))
    if not files:
        pytest.skip("deploy/prometheus/rules has no rules file yet")
    recorded = {
        rule["record"]
        for path in files
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    read = set().union(*(series_read(expr) for expr in expressions()))
    assert {name for name in read if ":" in name} <= recorded


def test_every_query_parses_as_promql(tmp_path: Path) -> None:
    """promtool has no PromQL-only check, so each query becomes a recording rule it checks."""
    rules = []
    for number, expr in enumerate(sorted(set(expressions()))):
        for variable, value in VARIABLES.items():
            expr = expr.replace(variable, value)
        rules.append({"record": f"dashboard:query_{number}", "expr": expr})
    path = tmp_path / "queries.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
