"""Requests per caller: a token bucket per principal, so one runaway partner or script cannot
take a service's capacity from everyone else.

Each replica keeps its own buckets in memory: behind N replicas a caller gets up to N times the
rate, which is the point of adding replicas. A refused request is a 429 with `Retry-After`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_CALLERS = 10_000  # buckets kept before the idle (full) ones are dropped


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, caller: str) -> int | None:
        """Take one request from `caller`'s bucket: None when it may go ahead, else the whole
        seconds until it may."""
        now = self._clock()
        bucket = self._buckets.get(caller)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[caller] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.per_second))

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) < MAX_CALLERS:
            return
        refill = self.burst / self.per_second  # a bucket idle this long is full again
        self._buckets = {
            caller: bucket for caller, bucket in self._buckets.items() if now - bucket.at < refill
        }
