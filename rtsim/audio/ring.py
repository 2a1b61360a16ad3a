"""Preallocated single-producer / single-consumer ring buffer of float32 frames.

The producer is an audio callback or a source thread; the consumer is the engine
thread. Copies run in numba kernels that hold the GIL, so a write and a read never
interleave. Every write records an *anchor* (absolute end index, capture time of its last
frame); the capture time of any frame is derived from the nearest anchor at or after it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rtsim.audio import _ring_kernels as k
from rtsim.errors import AudioError, ConfigError

__all__ = ["POLICIES", "ReadInfo", "RingBuffer"]

POLICIES = {"drop_oldest": k.DROP_OLDEST, "drop_newest": k.DROP_NEWEST, "block": k.BLOCK}
_MAX_ANCHORS = 4096
_BLOCK_SLEEP_S = 0.001


@dataclass(frozen=True)
class ReadInfo:
    """What one :meth:`RingBuffer.read` delivered.

    Attributes
    ----------
    n : int
        Frames copied into ``out[:n]``.
    end_index : int
        Absolute index (since start or :meth:`RingBuffer.reset`) of the frame after the
        last one read.
    end_time : float
        Wall-clock capture time (s, ``time.time()`` clock) of the last frame read;
        NaN when ``n == 0``.
    """

    n: int
    end_index: int
    end_time: float


class RingBuffer:
    """Ring of ``capacity`` frames × ``channels`` float32 samples.

    Parameters
    ----------
    capacity : int
        Frames held, ≥ 1.
    channels : int
        Samples per frame, ≥ 1.
    sr : float
        Sample rate (Hz) of the frames; used to derive per-frame capture times.
    policy : {"drop_oldest", "drop_newest", "block"}
        What a write does when the buffer is full. ``drop_oldest`` overwrites the oldest
        unread frames (the reader skips them); ``drop_newest`` discards the part of the
        block that does not fit; ``block`` waits (sleeping ``1 ms`` at a time, at most
        ``timeout`` s) until the reader makes room, then counts whatever still did not fit
        as dropped. Frames lost either way are counted in :attr:`dropped`.
    timeout : float
        Longest wait (s) of one write under the ``block`` policy.

    Notes
    -----
    Counters: :attr:`written` (frames that entered the ring, = absolute write index),
    :attr:`read_total` (frames handed to the reader), :attr:`dropped` (frames lost by the
    policy), :attr:`overruns` (write calls that met a full buffer). Under
    ``drop_newest`` ``written + dropped`` is the number of frames offered.
    """

    def __init__(
        self,
        capacity: int,
        channels: int,
        *,
        sr: float,
        policy: str = "drop_oldest",
        timeout: float = 2.0,
    ) -> None:
        _validate(capacity=capacity, channels=channels, sr=sr, policy=policy, timeout=timeout)
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.sr = float(sr)
        self.policy = policy
        self.timeout = float(timeout)
        self._code = POLICIES[policy]
        self._buf = np.zeros((self.capacity, self.channels), dtype=np.float32)
        self._state = np.zeros(k.STATE_LEN, dtype=np.int64)
        n_anchors = min(self.capacity, _MAX_ANCHORS) + 1
        self._a_index = np.zeros(n_anchors, dtype=np.int64)
        self._a_time = np.zeros(n_anchors, dtype=np.float64)
        self._cols = np.arange(self.channels, dtype=np.int64)
        self._warm_up()

    def _warm_up(self) -> None:
        """Compile the kernels now, not in the first audio callback.

        Covers writable blocks and the read-only ones ``np.frombuffer`` gives a callback.
        """
        empty = np.zeros((0, self.channels), dtype=np.float32)
        self.write(empty, 0.0)
        empty.flags.writeable = False
        self.write(empty, 0.0)
        self.read(np.zeros((0, self.channels), dtype=np.float32))
        k.frame_time(self._state, self._a_index, self._a_time, 0, self.sr)
        self.available()

    def write(self, block: np.ndarray, capture_time: float, *, columns=None) -> int:
        """Append ``block`` (oldest frame first).

        Parameters
        ----------
        block : np.ndarray, shape (n, channels) or (n,) when ``channels == 1``
            float32 frames. With ``columns``, shape (n, c) with ``c > max(columns)``.
        capture_time : float
            Wall-clock capture time (s) of the block's *last* frame.
        columns : np.ndarray of int64, shape (channels,), optional
            Columns of ``block`` to store, in order (channel selection without a copy);
            preallocate it once.

        Returns
        -------
        int
            Frames of ``block`` that entered the ring: ``n`` under ``drop_oldest`` (older
            frames may have been overwritten), what fitted under ``drop_newest`` and
            ``block``.
        """
        b = block if block.ndim == 2 else block.reshape(-1, 1)
        cols = self._cols if columns is None else columns
        if columns is None and b.shape[1] != self.channels:
            raise AudioError(f"block shape {block.shape} does not fit channels={self.channels}")
        t_last = float(capture_time)  # one kernel specialisation, whatever the caller passes
        if self._code != k.BLOCK:
            taken = self._kernel_write(b, cols, t_last)
        else:
            taken = self._write_blocking(b, cols, t_last)
        if taken < 0:
            raise AudioError(
                f"columns {cols.tolist()} do not select {self.channels} channels of a block "
                f"of shape {block.shape}"
            )
        return taken

    def _kernel_write(self, b: np.ndarray, cols: np.ndarray, t_last: float) -> int:
        return k.write_kernel(
            self._buf, self._state, b, cols, self._a_index, self._a_time,
            t_last, self.sr, self._code,
        )  # fmt: skip

    def _write_blocking(self, b: np.ndarray, cols: np.ndarray, t_last: float) -> int:
        done = self._kernel_write(b, cols, t_last)
        if 0 <= done < len(b):
            self._state[k.OVERRUNS] += 1
        deadline = None
        while 0 <= done < len(b):
            deadline = deadline or time.monotonic() + self.timeout
            if time.monotonic() >= deadline:
                self._state[k.DROPPED] += len(b) - done
                break
            time.sleep(_BLOCK_SLEEP_S)
            done += self._kernel_write(b[done:], cols, t_last)
        return done

    def read(self, out: np.ndarray) -> ReadInfo:
        """Move up to ``len(out)`` oldest unread frames into ``out`` (shape (m, channels))."""
        n, end, t = k.read_kernel(self._buf, self._state, out, self._a_index, self._a_time, self.sr)
        return ReadInfo(n=int(n), end_index=int(end), end_time=float(t))

    def available(self) -> int:
        """Unread frames."""
        return int(k.available_kernel(self._state))

    def space(self) -> int:
        """Frames that can be written before the buffer is full."""
        return self.capacity - self.available()

    def frame_time(self, index: int) -> float:
        """Capture time (s) of absolute frame ``index``; NaN if not written yet."""
        return float(k.frame_time(self._state, self._a_index, self._a_time, index, self.sr))

    def reset(self) -> None:
        """Forget all frames, anchors and counters (call with producer and consumer idle)."""
        self._state[:] = 0
        self._a_index[:] = 0
        self._a_time[:] = 0.0

    @property
    def written(self) -> int:
        """Frames that entered the ring (the absolute write index)."""
        return int(self._state[k.W])

    @property
    def read_total(self) -> int:
        """Frames handed to the reader."""
        return int(self._state[k.READ_TOTAL])

    @property
    def dropped(self) -> int:
        """Frames lost by the overflow policy."""
        return int(self._state[k.DROPPED])

    @property
    def overruns(self) -> int:
        """Write calls that met a full buffer."""
        return int(self._state[k.OVERRUNS])


def _validate(*, capacity, channels, sr, policy, timeout) -> None:
    if not isinstance(capacity, (int, np.integer)) or capacity < 1:
        raise ConfigError(f"capacity={capacity!r} must be an integer ≥ 1")
    if not isinstance(channels, (int, np.integer)) or channels < 1:
        raise ConfigError(f"channels={channels!r} must be an integer ≥ 1")
    if not np.isfinite(sr) or sr <= 0:
        raise ConfigError(f"sr={sr!r} must be a positive number of Hz")
    if policy not in POLICIES:
        raise ConfigError(f"policy={policy!r} is unknown (accepted: {', '.join(POLICIES)})")
    if not timeout > 0:
        raise ConfigError(f"timeout={timeout!r} must be > 0 s")
