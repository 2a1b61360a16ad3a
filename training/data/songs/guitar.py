"""Guitar parts: strums, power chords, funk chanks, riffs, fingerpicking, skanks.

Chords are guitar-like voicings (root on the low strings, E2..Eb3, then fifth, octave,
third, ...); a strum spreads its notes over about 15 ms, down strokes low to high and up
strokes (top four notes) high to low. Rhythms and riffs are drawn once per piece.
"""

from __future__ import annotations

import numpy as np

from rtsim.training.data.gm import program_range
from rtsim.training.data.midi import Note
from rtsim.training.data.songs.groove import Bar, Feel
from rtsim.training.data.songs.keys import comp_rhythm
from rtsim.training.data.songs.theory import Chord, fit_range, nearest, voicing

__all__ = ["STRUMS", "guitar_part"]

STRUMS = {"high": ("D...D.U...U.D.U.", "D.D.DU.UD.D.DU.U", "D..D..D.D.U.D.U.",
                   "D...D...D...D.U."),
          "low": ("D.......D.......", "D.......D...D...", "D.....D.....D...")}
"""Strum patterns (16 steps: D down, U up) by energy."""

SPREAD = 0.03
"""Beats between the strings of a strum."""

_BOSSA = ("x..x..x...x..x..", "..x..x...x..x...", "x..x...x..x..x..")
_PENTA = {"major": (0, 2, 4, 7, 9), "minor": (0, 3, 5, 7, 10)}


def guitar_voicing(chord: Chord, kind: str = "full") -> list[int]:
    """Ascending pitches: ``full`` (5-6 strings), ``power`` (R 5 8) or ``shell`` (R 7 3)."""
    root = nearest(chord.root, 45)
    t3, t5 = chord.tones[1], chord.tones[2]
    t7 = chord.tones[3] if len(chord.tones) > 3 else None
    if kind == "power":
        offsets = [0, 7, 12]
    elif kind == "shell":
        offsets = [0, t7 if t7 is not None else 12, 12 + t3]
    else:
        offsets = [0, t5, t7 if t7 is not None else 12, 12 + t3, 12 + t5]
    return [root + o for o in offsets]


def _strum(t: float, pitches: list[int], *, up: bool, dur: float, vel: int) -> list[Note]:
    order = pitches[-4:][::-1] if up else pitches
    return [Note(t + k * SPREAD, max(dur - k * SPREAD, 0.05), p, vel)
            for k, p in enumerate(order)]


def _events(style: str, energy: str, mode: str, rng: np.random.Generator) -> list:
    """One bar's events ``(step, length, what)``.

    ``what`` is a strum (``D``, ``U``), a chord kind (``power``, ``shell``, ``top``), a
    thumb note (``thumb``, ``thumb5``), or ``("note", interval)`` / ``("pick", string)``.
    """
    high = energy == "high"
    if style == "strum":
        options = STRUMS["high" if high else "low"]
        pat = options[int(rng.integers(len(options)))]
        hits = [i for i, c in enumerate(pat) if c != "."] + [16]
        return [(s, e - s, pat[s]) for s, e in zip(hits, hits[1:], strict=False)]
    if style == "power":
        return [(s, 1.5 if high else 8, "power") for s in range(0, 16, 2 if high else 8)]
    if style == "chank":
        return [(s, 0.5, "top") for s, _ in comp_rhythm(rng, hits=8 if high else 4, length=1)]
    if style == "comp4":
        return [(s, 1.5, "shell") for s in range(0, 16, 4)]
    if style == "skank":
        return [(s, 0.8, "top") for s in ((4, 6, 12, 14) if high else (4, 12))]
    if style == "bossa_comp":
        pat = _BOSSA[int(rng.integers(len(_BOSSA)))]
        return [(0, 6, "thumb"), (8, 6, "thumb5")] + [
            (i, 1.5, "top") for i, c in enumerate(pat) if c == "x"]
    if style == "riff":
        steps = sorted({0, *(int(s) for s in rng.choice(16, 7 if high else 4, replace=False))})
        walk = np.clip(np.cumsum(rng.integers(-2, 3, len(steps))), -2, 6)
        scale = _PENTA[mode]
        return [(s, 1.6, ("note", scale[w % 5] + 12 * (w // 5))) for s, w in zip(steps, walk,
                                                                                strict=True)]
    order = [0, *(int(i) for i in rng.integers(1, 5, 7))]
    return [(2 * k, 3, ("pick", i)) for k, i in enumerate(order)]


def _bar_notes(ev, bar: Bar, feel: Feel, prev: list[int] | None) -> tuple[list[Note], list]:
    step, length, what = ev
    t, dur = feel.time(bar.index, step), feel.length(length) * 0.95
    vel = feel.vel(0.95 if step % 4 == 0 else 0.8)
    full = guitar_voicing(bar.chord)
    if what in ("D", "U"):
        return _strum(t, full, up=what == "U", dur=dur, vel=vel), prev
    if what in ("power", "shell"):
        return _strum(t, guitar_voicing(bar.chord, what), up=False, dur=dur, vel=vel), prev
    if what == "top":
        top = voicing(bar.chord, center=69, prev=prev)
        return [Note(t, dur, p, vel) for p in top], top
    if what in ("thumb", "thumb5"):
        return [Note(t, dur, full[1] if what == "thumb5" else full[0], vel)], prev
    kind, value = what
    pitch = full[value] if kind == "pick" else full[0] + 12 + value
    return [Note(t, dur, pitch, vel)], prev


def guitar_part(*, bars: list[Bar], style: str, program: int, energy: str, mode: str,
                feel: Feel, rng: np.random.Generator) -> list[Note]:
    """Notes of the guitar stem (``style`` as in the presets), within the program's range."""
    lo, hi = program_range(program)
    sections = {s: _events(style, energy, mode, rng) for s in ("A", "B")}
    notes, prev = [], None
    for bar in bars:
        for ev in sections[bar.section]:
            new, prev = _bar_notes(ev, bar, feel, prev)
            notes += [n._replace(pitch=fit_range(n.pitch, lo, hi)) for n in new]
    return notes
