"""The time grid of a piece: bars of 16 steps, swing, humanised timing and velocity.

A bar of 4/4 has 16 steps (sixteenth notes); step ``s`` of bar ``b`` is at beat
``4 b + s / 4`` before swing. Swing delays the second half of every ``unit`` pair
(``unit`` = 0.5 beat: swung eighths; 0.25: swung sixteenths) so that the first note of
a pair lasts ``swing`` of the pair (0.5 = straight, 0.67 = triplet feel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtsim.training.data.songs.theory import Chord

__all__ = ["STEPS", "Bar", "Feel", "pattern_steps", "swing_time"]

STEPS = 16
"""Steps per bar."""


@dataclass(frozen=True)
class Bar:
    """One bar of the form: its chord, the next bar's chord and where it sits."""

    index: int
    chord: Chord
    next_chord: Chord
    section: str
    section_start: bool
    phrase_end: bool


def swing_time(beats: float, *, swing: float, unit: float) -> float:
    """Swung position (beats) of a straight position ``beats``."""
    pair = 2 * unit
    base, t = divmod(beats, pair)
    t = t * 2 * swing if t < unit else pair * swing + (t - unit) * 2 * (1 - swing)
    return base * pair + t


def pattern_steps(pattern: str) -> list[tuple[int, float]]:
    """``(step, weight)`` of a 16-character pattern: ``x`` 1.0, ``o`` 0.8, ``g`` 0.45."""
    weights = {"x": 1.0, "o": 0.8, "g": 0.45}
    return [(i, weights[c]) for i, c in enumerate(pattern) if c in weights]


class Feel:
    """Places notes on the grid of one part: swing, timing jitter, velocity scale."""

    def __init__(self, *, swing: float, unit: float, energy: str,
                 rng: np.random.Generator, jitter: float = 0.01) -> None:
        self.swing, self.unit, self.rng, self.jitter = swing, unit, rng, jitter
        self.level = 100 if energy == "high" else 72

    def time(self, bar: int, step: float) -> float:
        """Beat position of ``step`` (may be fractional) in bar ``bar``, humanised."""
        t = swing_time(step / 4, swing=self.swing, unit=self.unit)
        return max(0.0, 4 * bar + t + self.rng.normal(0, self.jitter))

    def length(self, steps: float) -> float:
        """Duration in beats of ``steps`` sixteenths."""
        return steps / 4

    def vel(self, weight: float = 1.0) -> int:
        """Velocity of a note of relative ``weight`` (1 = accent), humanised."""
        v = self.level * weight + self.rng.normal(0, 4)
        return int(np.clip(round(v), 1, 127))
