"""What the hop loop's thread runs under: interpreter settings and idle-time collection.

While the loop runs, the interpreter switches threads every ``switch_interval_ms`` (the
capture callback and the control threads get the GIL back quickly) and the cyclic garbage
collector is off, with the start-up objects frozen out of its view; the loop collects only
when it is idle, at most every ``interval_s`` (:class:`IdleCollector`). Both are restored
when the loop ends.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["hop_runtime", "IdleCollector"]


@contextmanager
def hop_runtime(switch_interval_ms: float) -> Iterator[None]:
    """Run the body with a short thread switch interval and the collector off."""
    previous = sys.getswitchinterval()
    was_enabled = gc.isenabled()
    sys.setswitchinterval(switch_interval_ms / 1000)
    gc.disable()
    gc.collect()
    gc.freeze()  # start-up objects leave the collector's view: later collections are short
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
        if was_enabled:
            gc.enable()


class IdleCollector:
    """A collection between hops, when idle, at most every ``interval_s`` (timed as "gc")."""

    def __init__(self, interval_s: float, timer) -> None:
        self.interval_s, self.timer = interval_s, timer
        self._next = 0.0

    def __call__(self) -> None:
        """Collect now, unless the last collection was less than ``interval_s`` ago."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.interval_s
        t0 = time.perf_counter()
        gc.collect()
        self.timer.record("gc", time.perf_counter() - t0)
