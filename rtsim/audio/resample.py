"""Streaming rational-ratio resampler: polyphase Kaiser-windowed sinc.

The ratio ``sr_out / sr_in`` is reduced to ``up / down`` by their gcd. A causal
low-pass prototype at the upsampled rate ``sr_in * up`` (cutoff ``rolloff`` × the lower
Nyquist, ``zeros`` sinc zero-crossings each side) is split into ``up`` phases. Output
``m`` sits at upsampled position ``m * down`` and needs inputs up to
``floor(m * down / up)``, so after ``N`` inputs exactly ``ceil(N * up / down)`` outputs
exist, however the input was chunked. :meth:`Resampler.offline` is
:meth:`Resampler.stream` over the whole signal from :meth:`Resampler.init_state`, so the
two agree bit for bit.

Latency: the filter is causal and its half-length is a multiple of ``down``, so the group
delay :attr:`Resampler.delay_out` is a whole number of output samples. :func:`resample`
removes it for offline use (file loading).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil, gcd

import numpy as np
from numba import njit

from rtsim.errors import ConfigError

__all__ = ["Resampler", "ResamplerState", "resample"]

ROLLOFF = 0.9
KAISER_BETA = 8.6


@dataclass
class ResamplerState:
    """Stream state: the last input samples the filter still needs, and the phase.

    Attributes
    ----------
    history : np.ndarray, shape (taps_per_phase - 1,), float32
        Most recent inputs, oldest first (zeros before the stream starts).
    phase : int
        Upsampled position of the next output relative to the next input, in
        ``[0, down)``.
    n_in, n_out : int
        Samples consumed and produced so far.
    """

    history: np.ndarray
    phase: int = 0
    n_in: int = 0
    n_out: int = 0


@dataclass(frozen=True, eq=False, kw_only=True)
class Resampler:
    """Stateful resampler from ``sr_in`` to ``sr_out`` (Hz, integers).

    Parameters
    ----------
    sr_in, sr_out : int
        Input and output sample rates (Hz). Equal rates give an exact passthrough with
        zero delay.
    zeros : int
        Sinc zero-crossings on each side of the prototype; longer = sharper and slower.

    Attributes
    ----------
    up, down : int
        Reduced ratio ``sr_out / sr_in = up / down``.
    table : np.ndarray, shape (up, taps_per_phase), float32
        Polyphase filter bank.
    delay_out : float
        Group delay in output samples (whole number).
    delay_s : float
        Group delay in seconds.
    """

    sr_in: int
    sr_out: int
    zeros: int = 32
    up: int = field(init=False)
    down: int = field(init=False)
    table: np.ndarray = field(init=False, repr=False)
    delay_out: float = field(init=False)
    delay_s: float = field(init=False)

    def __post_init__(self) -> None:
        _validate(self.sr_in, self.sr_out, self.zeros)
        g = gcd(self.sr_in, self.sr_out)
        up, down = self.sr_out // g, self.sr_in // g
        if up == down:
            table, half = np.ones((1, 1), dtype=np.float32), 0
        else:
            table, half = _polyphase_table(up=up, down=down, zeros=self.zeros)
        object.__setattr__(self, "up", up)
        object.__setattr__(self, "down", down)
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "delay_out", float(half // down))
        object.__setattr__(self, "delay_s", half / (self.sr_in * up))

    @property
    def passthrough(self) -> bool:
        """True when ``sr_in == sr_out`` (output is the input, unchanged)."""
        return self.up == self.down

    def init_state(self) -> ResamplerState:
        """Fresh state: silence before the stream."""
        taps = self.table.shape[1]
        return ResamplerState(history=np.zeros(taps - 1, dtype=np.float32))

    def n_out(self, n_in: int) -> int:
        """Outputs that exist after ``n_in`` inputs: ``ceil(n_in * up / down)``."""
        return -(-n_in * self.up // self.down)

    def stream(self, x: np.ndarray, state: ResamplerState) -> tuple[np.ndarray, ResamplerState]:
        """Resample the next chunk.

        Parameters
        ----------
        x : np.ndarray, shape (n,)
            Mono chunk at ``sr_in``, any length (0 included).
        state : ResamplerState
            From :meth:`init_state` or the previous call; not modified.

        Returns
        -------
        y : np.ndarray, shape (n_out(n_in + n) - n_out(n_in),), float32
            Output at ``sr_out``, delayed by :attr:`delay_out` samples. At equal rates it
            is ``x`` itself (as float32, no copy): read it, do not write to it.
        state : ResamplerState
            State for the next call.
        """
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if self.passthrough:  # every hop at equal rates: no copy
            return x, ResamplerState(state.history, 0, state.n_in + len(x), state.n_out + len(x))
        buf = np.concatenate((state.history, x))
        count = max(0, -(-(len(x) * self.up - state.phase) // self.down))
        y = np.empty(count, dtype=np.float32)
        phase = _polyphase(buf, self.table, self.up, self.down, state.phase, len(x), y)
        hist = buf[len(buf) - len(state.history) :].copy()
        return y, ResamplerState(hist, int(phase), state.n_in + len(x), state.n_out + count)

    def offline(self, x: np.ndarray) -> np.ndarray:
        """Resample a whole signal: exactly :meth:`stream` from a fresh state.

        Parameters
        ----------
        x : np.ndarray, shape (n,)

        Returns
        -------
        np.ndarray, shape (ceil(n * up / down),), float32
            Delayed by :attr:`delay_out` samples, like the stream.
        """
        return self.stream(x, self.init_state())[0]


def resample(x: np.ndarray, *, sr_in: int, sr_out: int, zeros: int = 32) -> np.ndarray:
    """Delay-compensated offline resampling of a mono signal.

    Parameters
    ----------
    x : np.ndarray, shape (n,)
        Signal at ``sr_in`` (Hz).
    sr_in, sr_out : int
        Input and output rates (Hz).
    zeros : int
        See :class:`Resampler`.

    Returns
    -------
    np.ndarray, shape (ceil(n * sr_out / sr_in),), float32
        Time-aligned with ``x`` (the filter delay is removed, the tail flushed).
    """
    r = Resampler(sr_in=sr_in, sr_out=sr_out, zeros=zeros)
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if r.passthrough:
        return x.copy()
    lag = int(r.delay_out)
    pad = np.zeros(ceil((lag + 1) * r.down / r.up) + 1, dtype=np.float32)
    y = r.offline(np.concatenate((x, pad)))
    return y[lag : lag + r.n_out(len(x))]


def _validate(sr_in: int, sr_out: int, zeros: int) -> None:
    for name, value in (("sr_in", sr_in), ("sr_out", sr_out), ("zeros", zeros)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name}={value!r} must be a positive integer")


def _polyphase_table(*, up: int, down: int, zeros: int) -> tuple[np.ndarray, int]:
    """Causal Kaiser-windowed sinc split into ``up`` phases; also its half-length."""
    fc = ROLLOFF * 0.5 / max(up, down)  # cutoff in cycles per upsampled sample
    half = ceil(zeros / (2 * fc))
    half = -(-half // down) * down  # a multiple of down: whole-sample delay
    t = np.arange(-half, half + 1, dtype=np.float64)
    h = 2 * fc * np.sinc(2 * fc * t) * np.kaiser(2 * half + 1, KAISER_BETA)
    h *= up / h.sum()
    taps = -(-(2 * half + 1) // up)
    padded = np.zeros(taps * up, dtype=np.float64)
    padded[: len(h)] = h
    return padded.reshape(taps, up).T.astype(np.float32).copy(), half


@njit(cache=True)
def _polyphase(buf, table, up, down, phase, n_new, out):
    """Fill ``out``; ``buf`` = history (taps - 1) + new samples. Return the next phase."""
    taps = table.shape[1]
    hist = taps - 1
    t = phase
    for m in range(out.shape[0]):
        n_hi = t // up
        p = t - n_hi * up
        acc = 0.0
        base = hist + n_hi
        for j in range(taps):
            acc += buf[base - j] * table[p, j]
        out[m] = acc
        t += down
    return t - n_new * up
