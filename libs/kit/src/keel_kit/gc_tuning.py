"""The garbage collector, tuned for a service whose heap is mostly what start-up built.

A running service keeps hundreds of thousands of objects it never frees: imported modules,
SQLAlchemy's mappers, pydantic's validators, FastAPI's routes. Each batch it handles allocates
thousands of short-lived ones (rows, models, envelopes), so at CPython's default thresholds the
collector runs every few hundred allocations, and each full collection walks the whole
long-lived heap again. Profilers count that time against whatever happened to allocate (a
request's validation, the ORM loading rows), so it hides in plain sight:
`keel_gc_seconds_total` shows it.

`settle_heap` is called once start-up is done: what start-up built is frozen out of the
collector's sight (`gc.freeze`), and the youngest generation is collected less often, so a
batch's garbage is looked at once rather than many times over. Cycles are still collected.
It acts once per process: a test process starting many apps freezes only the first one's.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from prometheus_client import Counter

# Allocations (net of frees) between collections of the youngest generation; CPython's is 700.
YOUNG_THRESHOLD = 50_000

GC_SECONDS = Counter(
    "keel_gc_seconds",
    "Time the process spent in the garbage collector, by generation collected",
    ["generation"],
    registry=None,  # registered in each app's registry (`KitMetrics`), as the process's own
)

_started: float | None = None
_settled = False


def _time_collections(phase: str, info: dict[str, Any]) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
    elif _started is not None:
        GC_SECONDS.labels(generation=str(info["generation"])).inc(time.perf_counter() - _started)
        _started = None


def watch_collections() -> None:
    """Count the collector's time in `keel_gc_seconds_total` (once per process)."""
    if _time_collections not in gc.callbacks:
        gc.callbacks.append(_time_collections)


def settle_heap() -> None:
    """Collect what start-up left, then keep the survivors out of every later collection."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
