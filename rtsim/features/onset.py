"""Level-based onset detection for sample triggering, streamed block by block.

The input is cut into short blocks (5 ms by default). Each block's RMS level (dBFS) is
compared with an absolute threshold and with a slow envelope of recent levels: an onset
is a block at least ``threshold_db`` loud that rises ``rise_db`` above the envelope,
while the detector is armed and at least ``min_gap_ms`` after the previous onset. The
detector disarms at an onset and re-arms once the level falls back (by the hysteresis)
below the threshold or towards its envelope, so a held note triggers once and a
re-attack at the same loudness triggers again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rtsim.errors import ConfigError

__all__ = ["OnsetConfig", "OnsetState", "Onset", "OnsetDetector", "level_db"]

_FLOOR_DB = -120.0


def level_db(x: np.ndarray) -> float:
    """RMS level of ``x`` in dBFS (a full-scale square wave is 0 dB; silence -120 dB)."""
    if x.size == 0:
        return _FLOOR_DB
    ms = float(np.dot(x.ravel(), x.ravel())) / x.size
    return max(_FLOOR_DB, 10.0 * math.log10(ms)) if ms > 0 else _FLOOR_DB


@dataclass(frozen=True)
class OnsetConfig:
    """Onset detector parameters.

    Parameters
    ----------
    enabled : bool
    threshold_db : float
        Minimum block level (dBFS) of an onset.
    rise_db : float
        Minimum rise of the block level above the slow envelope.
    hysteresis_db : float
        How far the level must fall (below the threshold, or below ``rise_db`` above the
        envelope) before the detector re-arms.
    min_gap_ms : float
        Minimum time between two onsets.
    block_ms : float
        Analysis block length.
    envelope_ms : float
        Time constant of the slow envelope.
    match_delay_ms : float
        A trigger reports the match of the first window ending this long after its onset.
    """

    enabled: bool = True
    threshold_db: float = -40.0
    rise_db: float = 9.0
    hysteresis_db: float = 6.0
    min_gap_ms: float = 80.0
    block_ms: float = 5.0
    envelope_ms: float = 150.0
    match_delay_ms: float = 20.0

    def __post_init__(self) -> None:
        for name in ("rise_db", "hysteresis_db", "min_gap_ms", "block_ms", "envelope_ms",
                     "match_delay_ms"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"onset.{name}={value} must be a finite number >= 0")
        if self.block_ms <= 0 or self.envelope_ms <= 0:
            raise ConfigError("onset.block_ms and onset.envelope_ms must be > 0")
        if not math.isfinite(self.threshold_db):
            raise ConfigError(f"onset.threshold_db={self.threshold_db} must be finite")


@dataclass(frozen=True)
class Onset:
    """One detected onset: ``index`` is the stream sample ending its block."""

    index: int
    level_db: float


@dataclass
class OnsetState:
    """Streaming state of an :class:`OnsetDetector` (mutated in place)."""

    acc: float = 0.0
    count: int = 0
    n_seen: int = 0
    envelope_db: float = _FLOOR_DB
    armed: bool = True
    last_onset: int = -(10**12)
    peak_db: float = _FLOOR_DB  # loudest block since the last onset


class OnsetDetector:
    """Stream audio in any chunking; get the onsets each chunk completes.

    Parameters
    ----------
    config : OnsetConfig
    sr : int
        Sample rate of the audio fed to :meth:`stream`.
    """

    def __init__(self, config: OnsetConfig, *, sr: int) -> None:
        self.config = config
        self.sr = sr
        self.block = max(1, round(sr * config.block_ms / 1000))
        self.min_gap = round(sr * config.min_gap_ms / 1000)
        self.alpha = 1.0 - math.exp(-config.block_ms / config.envelope_ms)

    def init_state(self) -> OnsetState:
        """Fresh state (the stream starts at sample 0, after silence)."""
        return OnsetState()

    def stream(self, x: np.ndarray, state: OnsetState) -> tuple[list[Onset], OnsetState]:
        """Onsets completed by the chunk ``x`` (mono float32, any length)."""
        onsets: list[Onset] = []
        i = 0
        while i < len(x):
            take = min(self.block - state.count, len(x) - i)
            seg = x[i : i + take]
            state.acc += float(np.dot(seg, seg))
            state.count += take
            state.n_seen += take
            i += take
            if state.count == self.block:
                level = 10 * math.log10(state.acc / self.block) if state.acc > 0 else _FLOOR_DB
                onset = self._update(max(_FLOOR_DB, level), state)
                if onset is not None:
                    onsets.append(onset)
                state.acc, state.count = 0.0, 0
        return onsets, state

    def offline(self, x: np.ndarray) -> list[Onset]:
        """All onsets of a whole signal."""
        return self.stream(x, self.init_state())[0]

    def _update(self, level: float, state: OnsetState) -> Onset | None:
        c = self.config
        state.peak_db = max(state.peak_db, level)
        rise = level - state.envelope_db
        onset = None
        if (
            state.armed
            and level >= c.threshold_db
            and rise >= c.rise_db
            and state.n_seen - state.last_onset >= self.min_gap
        ):
            onset = Onset(index=state.n_seen, level_db=level)
            state.peak_db = level
            state.armed = False
            state.last_onset = state.n_seen
        elif not state.armed and (
            level < c.threshold_db - c.hysteresis_db or rise < c.rise_db - c.hysteresis_db
        ):
            state.armed = True
        state.envelope_db += self.alpha * (level - state.envelope_db)
        return onset
