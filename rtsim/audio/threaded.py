"""A source fed by its own thread: pacing at real time, or as fast as the reader allows.

Real time: block ``b`` (frames ``[f, f + n)``) is written when it is due,
``t0 + (f + n) / sr`` on the monotonic clock measured from the start, so sleeping never
accumulates drift. As fast as possible: the thread waits for room in the ring before each
write, so nothing is lost whatever the ring's policy. Capture times follow the media
clock: frame ``i`` is stamped ``wall0 + i / sr``, ``wall0`` being ``time.time()`` at start.
"""

from __future__ import annotations

import abc
import logging
import threading
import time

import numpy as np

from rtsim.audio.ring import RingBuffer
from rtsim.audio.sources import AudioSource
from rtsim.errors import AudioError

__all__ = ["ThreadedSource"]

log = logging.getLogger(__name__)

_STOP_JOIN_S = 0.5
_SPACE_POLL_S = 0.001


class ThreadedSource(AudioSource):
    """Base of the file and synth sources; subclasses implement :meth:`next_block`.

    Parameters
    ----------
    realtime : bool
        Pace blocks at real time (True) or deliver as fast as the ring is read (False).

    Notes
    -----
    ``stats()`` keys: ``blocks``, ``frames``, ``xruns`` (always 0: a thread cannot
    overflow), ``late`` (real-time blocks written more than one block after they were
    due), ``errors`` (exceptions that ended the thread; logged).
    """

    def __init__(self, *, realtime: bool) -> None:
        self.realtime = realtime
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._done = threading.Event()
        self._counts = {"blocks": 0, "frames": 0, "xruns": 0, "late": 0, "errors": 0}
        #: Wall-clock capture time of frame 0 (set when the feeding thread starts).
        self.start_time: float | None = None

    @abc.abstractmethod
    def next_block(self) -> np.ndarray | None:
        """Return the next block, shape (n, channels) float32, or None at the end."""

    def release(self) -> None:  # noqa: B027 - optional hook
        """Free what :meth:`open` acquired (called by :meth:`stop`)."""

    def start(self, ring: RingBuffer) -> None:
        """Start the feeding thread (see :meth:`AudioSource.start`)."""
        self.open()
        self.check_ring(ring)
        if self._thread is not None:
            raise AudioError(f"source {self.name!r} is already started")
        self._halt.clear()
        self._thread = threading.Thread(
            target=self._run, args=(ring,), name=f"rtsim-source:{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and release the source (idempotent)."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=_STOP_JOIN_S)
            if self._thread.is_alive():
                log.warning("source %r: thread did not stop within %.1f s", self.name, _STOP_JOIN_S)
            self._thread = None
        self.release()

    @property
    def finished(self) -> bool:
        """True once the last frame was written (never for a looping source)."""
        return self._done.is_set()

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until :attr:`finished` (or ``timeout`` s); return :attr:`finished`."""
        return self._done.wait(timeout)

    def stats(self) -> dict[str, int]:
        """Counters, see the class notes."""
        return dict(self._counts)

    def _run(self, ring: RingBuffer) -> None:
        try:
            self._pump(ring)
        except Exception:
            self._counts["errors"] += 1
            log.exception("source %r stopped on an error", self.name)
            self._done.set()

    def _pump(self, ring: RingBuffer) -> None:
        t0, wall0, frames = time.monotonic(), time.time(), 0
        self.start_time = wall0
        while not self._halt.is_set():
            block = self.next_block()
            if block is None:
                self._done.set()
                return
            n = len(block)
            if self.realtime:
                late = time.monotonic() - (t0 + (frames + n) / self.sr)
                if late < 0 and self._halt.wait(-late):
                    return
                self._counts["late"] += late * self.sr > max(n, 1)
                ring.write(block, wall0 + (frames + n - 1) / self.sr)
            elif not self._write_lossless(ring, block, wall0 + (frames + n - 1) / self.sr):
                return
            frames += n
            self._counts["blocks"] += 1
            self._counts["frames"] += n

    def _write_lossless(self, ring: RingBuffer, block: np.ndarray, t_last: float) -> bool:
        """Write in pieces of ≤ ``ring.capacity``, waiting for room; False if halted.

        ``t_last`` is the capture time of the block's last frame.
        """
        n = len(block)
        for lo in range(0, n, ring.capacity):
            hi = min(n, lo + ring.capacity)
            while ring.space() < hi - lo:
                if self._halt.wait(_SPACE_POLL_S):
                    return False
            ring.write(block[lo:hi], t_last - (n - hi) / self.sr)
        return True
