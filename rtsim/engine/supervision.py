"""Source supervision: notice a real-time source that stopped delivering, reopen it.

PortAudio does not report a lost device: a capture stream simply goes quiet. The
:class:`SourceSupervisor` is told each time audio arrives (:meth:`delivered`); when a
real-time source has delivered nothing for ``watchdog_s`` (:meth:`watch`, called by the
engine when it is idle) it reopens the source in a background thread, with backoff,
until audio flows again or the engine stops, while the engine keeps serving control.
A paced file or test signal that has simply ended is reported as finished instead.
"""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["SourceSupervisor"]

log = logging.getLogger(__name__)


class SourceSupervisor:
    """Watchdog and recovery of one source.

    Parameters
    ----------
    source : AudioSource
    ring : RingBuffer
        The ring the source writes (its write count shows that audio flows again).
    watchdog_s : float
    stop : threading.Event
        The engine's stop flag (recovery gives up when it is set).
    counters : dict
        Where ``stalls`` and ``recoveries`` are counted (the engine's counters).
    """

    def __init__(self, source, ring, *, watchdog_s: float, stop: threading.Event,
                 counters: dict) -> None:
        self.source, self.ring, self.watchdog_s = source, ring, watchdog_s
        self.stop, self.counters = stop, counters
        self.last_audio = time.monotonic()
        self._recovery: threading.Thread | None = None

    def delivered(self) -> None:
        """Audio arrived just now."""
        self.last_audio = time.monotonic()

    def watch(self) -> bool:
        """Notice a stalled real-time source and start its recovery.

        Returns True when a paced file or test signal has simply ended (the loop stops).
        """
        if self.source.finished and not self.source.restartable:
            return self.ring.available() == 0
        silent_for = time.monotonic() - self.last_audio
        if silent_for < self.watchdog_s or (self._recovery and self._recovery.is_alive()):
            return False
        self.counters["stalls"] += 1
        log.warning("audio source %r delivered nothing for %.1f s: reopening it",
                    self.source.name, silent_for)
        self._recovery = threading.Thread(target=self._recover, name="rtsim-recovery",
                                          daemon=True)
        self._recovery.start()
        return False

    def _recover(self) -> None:
        """Reopen the source with backoff until it delivers again or the engine stops."""
        delay = 0.25
        while not self.stop.is_set():
            attempt = threading.Thread(target=self._restart_source, daemon=True)
            attempt.start()
            attempt.join(timeout=max(2.0, self.watchdog_s))  # a hung open is abandoned
            if not attempt.is_alive() and self._delivers_again():
                self.counters["recoveries"] += 1
                self.delivered()
                log.info("audio source %r is back", self.source.name)
                return
            if self.stop.wait(delay):
                return
            delay = min(10.0, delay * 2)

    def _delivers_again(self) -> bool:
        written = self.ring.written
        self.stop.wait(min(1.0, self.watchdog_s))
        return self.ring.written > written

    def _restart_source(self) -> None:
        try:
            self.source.restart(self.ring)
        except Exception as exc:  # the device may not be back yet: retried with backoff
            log.warning("reopening %r failed: %s", self.source.name, exc)
