"""Keys, diatonic chords, progressions and voicings.

Pitches are MIDI note numbers; a pitch class is 0..11 (0 = C). A chord is built by
stacking thirds of the key's scale on a scale degree (0-based: 0 = I/i, 4 = V/v).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "KEY_NAMES",
    "PROGRESSIONS",
    "SCALES",
    "Chord",
    "diatonic_chord",
    "fit_range",
    "key_signature",
    "nearest",
    "roman",
    "voicing",
]

SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
"""Semitones above the tonic of each degree (natural minor)."""

KEY_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""Tonic names by pitch class (as written in the ``key`` label)."""

_MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")

PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 4, 3), (1, 4, 0, 0), (0, 3, 0, 4),
              (5, 3, 0, 4), (0, 2, 3, 4), (0, 4, 3, 4), (0, 5, 1, 4), (3, 4, 2, 5),
              (0, 3, 5, 4), (0, 1, 3, 4)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4), (0, 3, 6, 2),
              (0, 6, 5, 4), (0, 2, 3, 5), (5, 6, 0, 0), (0, 3, 0, 4), (3, 4, 0, 5)),
}
"""Four-chord progressions (scale degrees) per mode."""


class Chord(NamedTuple):
    """A chord: ``root`` pitch class, ``tones`` in semitones above the root (root first)."""

    root: int
    tones: tuple[int, ...]
    degree: int


def key_signature(tonic: int, mode: str) -> str:
    """Key-signature name as mido spells it, e.g. ``(9, "minor") -> "Am"``."""
    return f"{_MINOR_NAMES[tonic]}m" if mode == "minor" else KEY_NAMES[tonic]


def diatonic_chord(degree: int, *, tonic: int, mode: str, size: int = 3,
                   raised_leading: bool = False) -> Chord:
    """The triad (``size=3``) or seventh chord (4) on ``degree`` of the key.

    ``raised_leading`` uses harmonic minor (a major V in a minor key).
    """
    scale = list(SCALES[mode])
    if raised_leading and mode == "minor":
        scale[6] = 11
    steps = [scale[(degree + 2 * k) % 7] + 12 * ((degree + 2 * k) // 7) for k in range(size)]
    return Chord((tonic + steps[0]) % 12, tuple(s - steps[0] for s in steps), degree)


def roman(degree: int, mode: str) -> str:
    """Roman numeral of a scale degree, upper case for major triads (e.g. ``"vi"``)."""
    numeral = ("I", "II", "III", "IV", "V", "VI", "VII")[degree]
    third = diatonic_chord(degree, tonic=0, mode=mode).tones[1]
    return numeral if third == 4 else numeral.lower()


def nearest(pc: int, target: float) -> int:
    """The MIDI pitch of pitch class ``pc`` nearest to ``target``."""
    base = round(target) - ((round(target) - pc) % 12)
    return base + 12 if target - base > 6 else base


def voicing(chord: Chord, *, center: float, prev: list[int] | None = None) -> list[int]:
    """A close-position voicing of ``chord`` near ``center``, led smoothly from ``prev``.

    Every inversion is tried with its lowest note near ``center - 5``; the one nearest
    ``prev`` (or ``center``) wins.

    Returns
    -------
    list of int
        Ascending MIDI pitches, one per chord tone.
    """
    pcs = [(chord.root + t) % 12 for t in chord.tones]
    best, best_cost = [], float("inf")
    for inv in range(len(pcs)):
        order = pcs[inv:] + pcs[:inv]
        notes = [nearest(order[0], center - 5)]
        for pc in order[1:]:
            notes.append(notes[-1] + ((pc - notes[-1]) % 12 or 12))
        ref = prev if prev else [center] * len(notes)
        cost = sum(abs(a - b) for a, b in zip(sorted(notes), sorted(ref), strict=False))
        cost += abs(sum(notes) / len(notes) - center) * 0.5
        if cost < best_cost:
            best, best_cost = notes, cost
    return best


def fit_range(pitch: int, lo: int, hi: int) -> int:
    """``pitch`` moved by octaves into ``lo..hi`` (clipped if the range is under an octave)."""
    while pitch < lo:
        pitch += 12
    while pitch > hi:
        pitch -= 12
    return min(max(pitch, lo), hi)
