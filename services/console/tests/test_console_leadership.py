"""Service tests of leadership's page: each service's KPI series drawn as an SVG line chart
with its figures beside it, a gap where nothing was measured, and a service that does not
answer named without hiding the others."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from console_harness import Console, running_console
from keel_console.charts import chart

pytestmark = pytest.mark.service


def series(name: str, unit: str, values: list[str | None]) -> dict[str, Any]:
    return {
        "name": name,
        "title": name.replace("_", " "),
        "unit": unit,
        "description": f"how {name} is measured",
        "points": [
            {"at": f"2026-12-0{i + 1}T00:00:00+00:00", "value": v} for i, v in enumerate(values)
        ],
    }


def report(service: str, *all_series: dict[str, Any]) -> dict[str, Any]:
    return {"service": service, "bucket": "day", "since": "2026-12-01T00:00:00+00:00",
            "until": "2026-12-04T00:00:00+00:00", "series": list(all_series)}  # fmt: skip


@pytest_asyncio.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    async with running_console(tmp_path) as console:
        await console.add_user("lea", "leadership")
        await console.add_user("wes", "warehouse")
        yield console


@pytest.mark.unit
def test_a_chart_breaks_where_nothing_was_measured() -> None:
    drawn = chart(series("cycle", "hours", ["2", "4", None, "3"]), "day")
    assert len(drawn.segments) == 1  # the first two points; the last stands alone
    assert drawn.dots == [(548.0, 44.5)]  # 3 of 4, a quarter down the 130-pixel plot
    assert drawn.top == "4"
    assert drawn.rows == [("2026-12-01", "2"), ("2026-12-02", "4"), ("2026-12-04", "3")]
    assert "latest 3 hours, lowest 2, highest 4, over 3 of 4 days measured" in drawn.summary
    percent = chart(series("fill", "percent", ["50", "75"]), "day")
    assert percent.top == "100"  # a rate is drawn against its whole


@pytest.mark.asyncio
async def test_leadership_sees_every_owners_charts(console: Console) -> None:
    answers = console.services.answers
    answers[("GET", "/v1/kpis")] = report(
        "order", series("orders_placed", "count", ["3", "5", "8", "13"])
    )
    landed = await console.sign_in("lea")
    assert landed.headers["location"] == "/leadership"
    page = await console.client.get("/leadership")
    assert page.status_code == 200
    # The fake answers every service the same: five sections, one chart each.
    assert len(re.findall(r'<svg viewBox="0 0 560 170" role="img"', page.text)) == 5
    assert "latest 13 count" in page.text
    called = {c["url"].host for c in console.services.calls}
    assert len(called) == 1  # one fake host; the paths tell the services apart
    assert all(c["url"].params["bucket"] == "day" for c in console.services.calls)
    assert "Could not read" not in page.text


@pytest.mark.asyncio
async def test_a_service_that_refuses_is_named(console: Console) -> None:
    console.services.answers[("GET", "/v1/kpis")] = (503, "the database is unavailable")
    await console.sign_in("lea")
    page = await console.client.get("/leadership", params={"bucket": "hour"})
    assert page.text.count("the database is unavailable") == 5
    assert console.services.calls[-1]["url"].params["bucket"] == "hour"


@pytest.mark.asyncio
async def test_the_warehouse_has_no_kpi_page(console: Console) -> None:
    await console.sign_in("wes")
    assert (await console.client.get("/leadership")).status_code == 403
