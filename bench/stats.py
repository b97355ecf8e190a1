"""Figures the benchmarks share."""

from __future__ import annotations

import math


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: ``share`` 0.5 is the median, 0.99 the p99."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]
