"""Throughput per window of a run, by the events' own times: a rate averaged over five minutes
hides a pipeline that starts fast and slows down; one per 30 s shows the decay.

Windows start when the run starts offering orders. The window in which the offering stops is
cut there, so no window mixes offered time with the drain that follows; the drain's windows
then go on until the last event counted, each flagged by whether orders were still offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

WINDOW_SECONDS = 30.0


def boundaries(offered_for: float, end: float, width: float = WINDOW_SECONDS) -> list[float]:
    """Window edges, in seconds from the start: every `width` while offering, an edge where
    the offering stops, every `width` after it until `end`. A phase's last window shorter
    than a tenth of `width` joins the one before it: a rate over a sliver of a second (the
    last posting landing just past a window's edge) would be noise."""
    edges = [0.0]
    for origin, until in ((0.0, offered_for), (offered_for, max(end, offered_for))):
        edge = origin
        while edge < until:
            edge = min(edge + width, until)
            if edge - edges[-1] < width / 10 and edges[-1] > origin:
                edges[-1] = edge
            else:
                edges.append(edge)
    return edges


def windows(
    start: float,
    offered_for: float,
    events: Mapping[str, Iterable[float]],
    width: float = WINDOW_SECONDS,
) -> list[dict[str, Any]]:
    """Per window (see `boundaries`) from `start` (unix time), the events/s of each kind in
    `events` (kind -> unix times). A time before `start` (clocks of different processes)
    counts in the first window."""
    times = {kind: sorted(max(t - start, 0.0) for t in at) for kind, at in events.items()}
    end = max([offered_for, *(ts[-1] for ts in times.values() if ts)])
    edges = boundaries(offered_for, end, width)
    rows: list[dict[str, Any]] = []
    for n, (since, until) in enumerate(pairwise(edges)):
        last = n == len(edges) - 2
        row: dict[str, Any] = {
            "from_s": round(since, 1),
            "to_s": round(until, 1),
            "offering": until <= offered_for,
        }
        for kind, ts in times.items():
            # Half-open windows, but the last one keeps the event that ends it.
            inside = sum(1 for t in ts if since <= t < until or (last and t == until))
            row[f"{kind}_per_s"] = round(inside / (until - since), 1)
        rows.append(row)
    return rows
