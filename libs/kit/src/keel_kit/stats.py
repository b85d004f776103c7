"""Figures Keel reports about its own work, computed one way everywhere."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float | None:
    """The `share` (0 to 1) percentile, interpolating linearly between the two nearest ranks
    (as PostgreSQL's percentile_cont does); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    below = int(rank)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)
