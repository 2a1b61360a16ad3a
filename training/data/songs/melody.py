"""Melodies for the extra stem: a two-bar motif per section, fitted to the chords.

A motif is a rhythm (onsets on the sixteenth grid, denser at high energy) and a random
walk over the key's scale degrees. It is drawn once per section and repeated every two
bars; notes on the bar's strong steps (0 and 8) move to the nearest tone of the chord,
so the same motif bends to the harmony.
"""

from __future__ import annotations

import numpy as np

from rtsim.training.data.gm import program_range
from rtsim.training.data.midi import Note
from rtsim.training.data.songs.groove import Bar, Feel
from rtsim.training.data.songs.theory import SCALES, fit_range, nearest

__all__ = ["melody_events", "melody_part", "motif"]


def motif(rng: np.random.Generator, *, energy: str) -> list[tuple[int, int, int]]:
    """``(step, length, degree)`` over 32 steps; degree 0 is the tonic, 7 an octave up."""
    n = int(rng.integers(8, 11) if energy == "high" else rng.integers(4, 7))
    steps = sorted({0, *(int(s) for s in rng.choice(np.arange(1, 30), n - 1, replace=False))})
    degrees = np.clip(int(rng.integers(2, 6)) + np.cumsum(rng.integers(-2, 3, len(steps))), 0, 9)
    ends = steps[1:] + [32]
    return [(s, e - s, int(d)) for s, e, d in zip(steps, ends, degrees, strict=True)]


def _pitch(degree: int, *, tonic: int, mode: str, base: int) -> int:
    scale = SCALES[mode]
    return nearest(tonic, base) + scale[degree % 7] + 12 * (degree // 7)


def _snap(pitch: int, bar: Bar) -> int:
    tones = [(bar.chord.root + t) % 12 for t in bar.chord.tones]
    return min((nearest(pc, pitch) for pc in tones), key=lambda p: (abs(p - pitch), p))


def melody_events(*, bars: list[Bar], lo: int, hi: int, tonic: int, mode: str, energy: str,
                  feel: Feel, rng: np.random.Generator) -> list[tuple[str, int, Note]]:
    """``(section, motif step, note)`` of a melody centred within ``lo..hi``.

    The base sits near C5 where the range allows (14 semitones below its top).
    """
    base = fit_range(67, lo, max(lo, hi - 14))
    motifs = {s: motif(rng, energy=energy) for s in ("A", "B")}
    events = []
    for bar in bars:
        half = (bar.index % 2) * 16
        for step, length, degree in motifs[bar.section]:
            if not half <= step < half + 16:
                continue
            s = step - half
            pitch = _pitch(degree, tonic=tonic, mode=mode, base=base)
            if s % 8 == 0:
                pitch = _snap(pitch, bar)
            events.append((bar.section, step, Note(
                feel.time(bar.index, s), feel.length(min(length, 16 - s)) * 0.9,
                fit_range(pitch, lo, hi), feel.vel(0.9 if s % 4 == 0 else 0.8))))
    return events


def melody_part(*, bars: list[Bar], program: int, tonic: int, mode: str, energy: str,
                feel: Feel, rng: np.random.Generator) -> list[Note]:
    """Notes of a melodic extra stem, centred near C5 within the program's range."""
    lo, hi = program_range(program)
    return [n for _, _, n in melody_events(bars=bars, lo=lo, hi=hi, tonic=tonic, mode=mode,
                                           energy=energy, feel=feel, rng=rng)]
