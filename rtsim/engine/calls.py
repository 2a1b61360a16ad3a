"""Calls queued for the engine thread: control commands run between hops, never inside one.

Any thread may :meth:`CallQueue.put` a prepared closure (the control plane does, after
checking the command); the engine thread runs at most ``per_turn`` of them before each
step, so a burst of commands never delays a hop for long. A full queue refuses the call
and counts it (``controls_dropped``); a call that raises is logged and the loop goes on.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable

__all__ = ["CallQueue"]

log = logging.getLogger(__name__)


class CallQueue:
    """A bounded queue of calls for the engine thread.

    Parameters
    ----------
    counters : dict
        Where ``controls_dropped`` is counted.
    size : int
    per_turn : int
        Calls run per :meth:`run_some`.
    """

    def __init__(self, counters: dict, *, size: int = 1024, per_turn: int = 32) -> None:
        self.counters, self.per_turn = counters, per_turn
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=size)

    @property
    def pending(self) -> int:
        """Calls waiting."""
        return self._queue.qsize()

    @property
    def size(self) -> int:
        """Most calls that may wait."""
        return self._queue.maxsize

    def put(self, fn: Callable[[], None]) -> bool:
        """Queue ``fn``; False (and counted) if the queue is full."""
        try:
            self._queue.put_nowait(fn)
            return True
        except queue.Full:
            self.counters["controls_dropped"] += 1
            return False

    def run_some(self) -> None:
        """Run up to ``per_turn`` waiting calls (engine thread)."""
        for _ in range(self.per_turn):
            try:
                fn = self._queue.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            except Exception:
                log.exception("control call failed")
