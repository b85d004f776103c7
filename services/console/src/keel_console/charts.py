"""Line charts of KPI series, drawn as SVG by the server from the services' own figures: no
script and no chart library, so they show without internet and read the same in any browser.

A chart is the series' points scaled into a fixed box; a bucket with nothing to measure (a null
value) breaks the line rather than drawing a zero that was never measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

WIDTH, HEIGHT = 560, 170
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28  # room for the axis labels


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    unit: str
    description: str
    segments: list[str]  # SVG polyline point lists, one per unbroken run of values
    dots: list[tuple[float, float]]  # where a run is a single point
    top: str  # the y axis's top label
    first: str  # the x axis's labels
    last: str
    summary: str  # the chart in one sentence, for screen readers
    rows: list[tuple[str, str]]  # the data, as a table shows it

    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: int = HEIGHT - BOTTOM
    right_x: int = WIDTH - RIGHT


def _label(at: str, bucket: str) -> str:
    return at[:10] if bucket == "day" else at[5:16].replace("T", " ")


def chart(series: dict[str, Any], bucket: str) -> Chart:
    points = series["points"]
    values = [None if p["value"] is None else Decimal(p["value"]) for p in points]
    measured = [v for v in values if v is not None]
    ceiling = max(measured, default=Decimal(0))
    if series["unit"] == "percent":
        ceiling = max(ceiling, Decimal(100))
    ceiling = ceiling or Decimal(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(values) - 1, 1)
    segments: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            segments.append([])
            continue
        x = LEFT + i * step
        y = TOP + plot_h * (1 - float(value / ceiling))
        segments[-1].append((round(x, 1), round(y, 1)))
    runs = [run for run in segments if run]
    latest = next((v for v in reversed(values) if v is not None), None)
    unit = series["unit"]
    summary = (
        f"{series['title']}: no measurement in this period."
        if latest is None
        else f"{series['title']}: latest {latest} {unit}, lowest {min(measured)}, highest "
        f"{max(measured)}, over {len(measured)} of {len(values)} {bucket}s measured."
    )
    return Chart(
        name=series["name"],
        title=series["title"],
        unit=unit,
        description=series["description"],
        segments=[" ".join(f"{x},{y}" for x, y in run) for run in runs if len(run) > 1],
        dots=[run[0] for run in runs if len(run) == 1],
        top=f"{ceiling.normalize():f}",
        first=_label(points[0]["at"], bucket) if points else "",
        last=_label(points[-1]["at"], bucket) if points else "",
        summary=summary,
        rows=[(_label(p["at"], bucket), p["value"]) for p in points if p["value"] is not None],
    )
