"""Partitions that stopped moving: an alarm long before topic retention could drop anything.

A batch that keeps failing transiently is rewound and tried again, forever: nothing is lost
while the records are still on the topic, but a partition stuck for days would reach the
topic's retention (7 days for most topics) and lose them. So every partition whose batches
fail is watched from its first failure until a batch moves it on; past `alarm_after` seconds it
shows in a metric, in an error log line (at most once a minute) and in /health/ready, which
`keel status` reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from keel_kit.metrics import KitMetrics

log = logging.getLogger(__name__)

Partition = tuple[str, int]
LOG_EVERY_SECONDS = 60.0


class StallWatch:
    """Knows since when each failing partition has been stuck."""

    def __init__(
        self,
        metrics: KitMetrics,
        *,
        alarm_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._alarm_after = alarm_after
        self._clock = clock
        self._stuck_since: dict[Partition, float] = {}
        self._logged_at: dict[Partition, float] = {}

    def failed(self, partitions: Iterable[Partition]) -> None:
        """A batch holding these partitions could not be applied and was rewound."""
        now = self._clock()
        for partition in set(partitions):
            since = self._stuck_since.setdefault(partition, now)
            stuck = now - since
            topic, number = partition
            self._metrics.partition_stalled.labels(topic=topic, partition=str(number)).set(stuck)
            if stuck >= self._alarm_after and now - self._logged_at.get(partition, -1e9) >= (
                LOG_EVERY_SECONDS
            ):
                self._logged_at[partition] = now
                log.error(
                    "partition %s[%d] has not moved for %.0fs: its batches keep failing "
                    "(see the errors above); records are lost if this lasts past the topic's "
                    "retention",
                    topic,
                    number,
                    stuck,
                )

    def moved(self, partitions: Iterable[Partition]) -> None:
        """A batch holding these partitions was applied."""
        for partition in set(partitions):
            if self._stuck_since.pop(partition, None) is not None:
                self._logged_at.pop(partition, None)
                topic, number = partition
                self._metrics.partition_stalled.labels(topic=topic, partition=str(number)).set(0)

    def alarms(self) -> list[str]:
        """One line per partition stuck past the alarm threshold."""
        now = self._clock()
        return [
            f"{topic}[{number}] stalled for {now - since:.0f}s"
            for (topic, number), since in sorted(self._stuck_since.items())
            if now - since >= self._alarm_after
        ]
