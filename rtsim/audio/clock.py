"""Watch a device's real sample rate and block size from its callbacks.

PortAudio opens a stream at the rate asked for, but some drivers (USB interfaces whose
clock follows an external word clock, ALSA plugins, Bluetooth) deliver frames at a
different rate without saying so. Every hop's timing and every embedding assumes the
nominal rate, so a mismatch is measured here, from the frame count against the callback
clock, and reported: ``rtsim`` warns once naming both rates and counts every check that
found it (status counter ``rate_mismatch``). Block-size changes (a driver switching its
period) are harmless to the ring buffer and counted (``block_size_changes``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["RateMonitor", "measured_rate"]

log = logging.getLogger(__name__)


def measured_rate(frames: int, seconds: float) -> float:
    """Frames per second delivered (NaN when ``seconds`` is not positive)."""
    return frames / seconds if seconds > 0 else float("nan")


@dataclass(slots=True)
class RateMonitor:
    """Count frames against the callback clock; flag a rate off by more than ``tolerance``.

    Parameters
    ----------
    nominal : int
        The rate the stream was opened at (Hz).
    block : int
        The block size asked for (frames per callback).
    tolerance : float
        Relative deviation that counts as a mismatch (default 1 %: a 48 kHz device
        running at 44.1 kHz is off by 8 %; crystal drift is below 0.01 %).
    window_s : float
        Seconds of frames per check (long enough for callback jitter to average out).
    name : str
        Device name for the warning.
    """

    nominal: int
    block: int
    tolerance: float = 0.01
    window_s: float = 5.0
    name: str = "device"
    mismatches: int = 0
    block_size_changes: int = 0
    last_rate: float = float("nan")
    _t0: float | None = None
    _frames: int = 0
    _last_block: int = 0

    def feed(self, frame_count: int, now: float) -> None:
        """Account one callback of ``frame_count`` frames arriving at ``now`` (monotonic s)."""
        if self._last_block and frame_count != self._last_block:
            self.block_size_changes += 1
        self._last_block = frame_count
        if self._t0 is None:  # the first callback starts the clock: its frames came before
            self._t0 = now
            return
        self._frames += frame_count
        elapsed = now - self._t0
        if elapsed < self.window_s:
            return
        self.last_rate = measured_rate(self._frames, elapsed)
        self._t0, self._frames = now, 0
        if abs(self.last_rate / self.nominal - 1.0) > self.tolerance:
            self.mismatches += 1
            if self.mismatches == 1:  # warn once; the count says the rest
                log.warning("%s delivers %.0f frames/s, but was opened at %d Hz: timing and "
                            "embeddings assume %d Hz (counted as rate_mismatch)", self.name,
                            self.last_rate, self.nominal, self.nominal)

    @property
    def rate_hz(self) -> int:
        """The last measured rate, rounded (0 before the first check)."""
        return 0 if self.last_rate != self.last_rate else round(self.last_rate)

    def restart(self) -> None:
        """Forget the clock (a stream reopened after a device loss)."""
        self._t0, self._frames, self._last_block = None, 0, 0
