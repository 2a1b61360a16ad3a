"""Stage timing into preallocated histograms: no allocation per measurement.

Each stage owns a log-spaced histogram from 1 µs to 100 s (60 bins per decade, so a
percentile is resolved to within 4 %). Recording is one ``searchsorted``-free index
computation and one increment; percentiles are read by the heartbeat, the terminal view
and ``rtsim bench``.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager

import numpy as np

__all__ = ["LatencyHistogram", "StageTimer"]

_LO, _DECADES, _PER_DECADE = 1e-6, 8, 60


class LatencyHistogram:
    """Durations (seconds) in log-spaced bins, with exact count, max and mean."""

    def __init__(self) -> None:
        self.counts = np.zeros(_DECADES * _PER_DECADE + 2, np.int64)
        self.n = 0
        self.total = 0.0
        self.max = 0.0

    def record(self, seconds: float) -> None:
        """Add one duration."""
        if seconds <= _LO:
            i = 0
        else:
            i = min(len(self.counts) - 1, 1 + int(math.log10(seconds / _LO) * _PER_DECADE))
        self.counts[i] += 1
        self.n += 1
        self.total += seconds
        self.max = max(self.max, seconds)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0–100) in seconds (upper edge of its bin; 0 if empty)."""
        if self.n == 0:
            return 0.0
        rank = math.ceil(q / 100 * self.n)
        i = int(np.searchsorted(np.cumsum(self.counts), max(1, rank)))
        return min(self.max, _LO * 10 ** (i / _PER_DECADE))

    def summary_ms(self) -> dict[str, float]:
        """``p50_ms``, ``p99_ms``, ``p999_ms``, ``max_ms``, ``mean_ms`` and ``n``."""
        out = {f"{k}_ms": self.percentile(q) * 1e3
               for k, q in (("p50", 50), ("p99", 99), ("p999", 99.9))}
        out["max_ms"] = self.max * 1e3
        out["mean_ms"] = (self.total / self.n * 1e3) if self.n else 0.0
        out["n"] = self.n
        return out

    def reset(self) -> None:
        """Forget everything."""
        self.counts[:] = 0
        self.n, self.total, self.max = 0, 0.0, 0.0


class StageTimer:
    """One histogram per named stage; stages are declared up front."""

    def __init__(self, stages: tuple[str, ...]) -> None:
        self.stages = {name: LatencyHistogram() for name in stages}

    def record(self, stage: str, seconds: float) -> None:
        """Add one duration to ``stage``."""
        self.stages[stage].record(seconds)

    @contextmanager
    def time(self, stage: str):
        """Time the ``with`` block into ``stage``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stages[stage].record(time.perf_counter() - t0)

    def summary_ms(self) -> dict[str, dict[str, float]]:
        """Per-stage :meth:`LatencyHistogram.summary_ms`."""
        return {name: h.summary_ms() for name, h in self.stages.items()}
