"""What the hop loop's thread runs under: interpreter settings and idle-time collection.

While the loop runs, the interpreter switches threads every ``switch_interval_ms`` (the
capture callback and the control threads get the GIL back quickly) and the cyclic garbage
collector is off, with the start-up objects frozen out of its view; the loop collects only
when it is idle, at most every ``interval_s`` (:class:`IdleCollector`). Both are restored
when the loop ends.

A real-time loop may also run under the kernel's real-time scheduler
(:func:`thread_priority`): ``SCHED_FIFO`` at a middle priority, as JACK and Pd's ``-rt``
run their audio threads, so that a browser drawing the map, a compiler or a file indexer
on the same cores waits for the hop instead of the hop waiting for them. The loop sleeps
between hops (it waits for audio), so it takes the CPU only for the hop's work, and
Linux keeps 5 % of every second for normal threads whatever real-time threads do.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["hop_runtime", "IdleCollector", "thread_priority", "realtime_permitted",
           "PRIORITIES", "RT_PRIORITY"]

log = logging.getLogger(__name__)

#: ``[engine] priority`` values.
PRIORITIES = ("auto", "realtime", "normal")
#: SCHED_FIFO priority of the engine thread: below JACK's and ALSA's audio threads (70+).
RT_PRIORITY = 40


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


def thread_priority(priority: str):
    """Put the calling thread under the real-time scheduler when ``priority`` asks.

    ``"normal"`` changes nothing; ``"auto"`` and ``"realtime"`` ask for ``SCHED_FIFO`` at
    :data:`RT_PRIORITY`. When the system refuses (no ``CAP_SYS_NICE`` and no ``rtprio``
    limit, e.g. a user outside Debian's ``audio`` group), the thread stays normal: a
    warning names the reason for ``"realtime"``, an info line for ``"auto"``.

    Returns
    -------
    restore : callable
        Puts the thread back as it was.
    got : str
        ``"realtime"`` or ``"normal"``.
    """
    if priority not in PRIORITIES:
        from rtsim.errors import ConfigError

        raise ConfigError(f"engine priority={priority!r} must be one of {PRIORITIES}")
    if priority == "normal" or not hasattr(os, "sched_setscheduler"):
        return (lambda: None), "normal"
    try:
        before = os.sched_getscheduler(0), os.sched_getparam(0)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))
    except (OSError, AttributeError) as exc:
        (log.warning if priority == "realtime" else log.info)(
            "engine priority=%s: real-time scheduling refused (%s); the engine thread runs "
            "at normal priority (allow it: CAP_SYS_NICE, or an rtprio limit such as "
            "Debian's audio group)", priority, exc)
        return (lambda: None), "normal"
    log.info("engine thread: real-time scheduling (SCHED_FIFO, priority %d)", RT_PRIORITY)

    def restore() -> None:
        try:
            os.sched_setscheduler(0, before[0], before[1])
        except OSError:
            pass

    return restore, "realtime"


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


def realtime_permitted() -> bool:
    """Whether this process may put a thread under ``SCHED_FIFO`` (asked in a new thread)."""
    import threading

    if not hasattr(os, "sched_setscheduler"):
        return False
    got: list[bool] = []

    def probe() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            got.append(True)
        except OSError:
            got.append(False)

    t = threading.Thread(target=probe)  # the probing thread ends: nothing to undo
    t.start()
    t.join()
    return got[0]
