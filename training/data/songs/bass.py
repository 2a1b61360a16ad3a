"""Bass lines that follow the chord roots.

Each style is a one-bar rhythm of ``(step, length, interval)`` events, chosen once per
piece and replayed on every bar relative to the bar's chord: ``R`` root, ``3``/``5``/``7``
chord tones, ``8`` octave, ``5-`` the fifth below, ``A`` a chromatic approach to the next
bar's root. ``walking`` is drawn bar by bar (root, two chord or scale tones, approach).
Low energy drops the events marked optional (lowercase: ``r``).
"""

from __future__ import annotations

import numpy as np

from rtsim.training.data.gm import program_range
from rtsim.training.data.midi import Note
from rtsim.training.data.songs.groove import Bar, Feel
from rtsim.training.data.songs.theory import Chord, fit_range, nearest

__all__ = ["BASS_RHYTHMS", "bass_part"]

BASS_RHYTHMS = {
    "roots": (((0, 8, "R"), (8, 8, "R")), ((0, 6, "R"), (6, 2, "r"), (8, 8, "5"))),
    "eighths": (tuple((s, 2, "R" if s < 14 else "A") for s in range(0, 16, 2)),
                tuple((s, 2, "R" if s != 12 else "5") for s in range(0, 16, 2))),
    "octaves": (tuple((s, 2, "R" if s % 4 == 0 else "8") for s in range(0, 16, 2)),),
    "offbeat": (tuple((s, 2, "R") for s in (2, 6, 10, 14)),
                ((2, 2, "R"), (6, 2, "8"), (10, 2, "R"), (14, 2, "A"))),
    "bossa": (((0, 6, "R"), (6, 2, "5-"), (8, 6, "R"), (14, 2, "5-")),),
    "reggae": (((0, 3, "R"), (3, 1, "r"), (6, 2, "5"), (10, 2, "8"), (12, 2, "7")),
               ((2, 2, "R"), (4, 2, "R"), (7, 1, "3"), (10, 4, "5"), (14, 2, "A"))),
}
"""Fixed bass rhythms per style (``syncopated`` ones are drawn per piece)."""

_SYNC_TONES = ("R", "R", "R", "8", "5", "7", "r")


def _syncopated(rng: np.random.Generator) -> tuple:
    steps = sorted({0, *(int(s) for s in rng.choice(np.arange(1, 16), 6, replace=False))})
    events = []
    for i, s in enumerate(steps):
        end = steps[i + 1] if i + 1 < len(steps) else 16
        events.append((s, min(end - s, 3), "R" if s == 0 else str(rng.choice(_SYNC_TONES))))
    return tuple(events)


def _interval(code: str, chord: Chord, nxt: Chord, root: int) -> int:
    tones = chord.tones
    table = {"R": 0, "r": 0, "3": tones[1], "5": tones[2], "5-": tones[2] - 12, "8": 12,
             "7": tones[3] if len(tones) > 3 else 12}
    if code == "A":
        target = nearest(nxt.root, root)
        return target + (1 if target <= root else -1) - root
    return table[code]


def _walk(bar: Bar, root: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    tones = [0, *bar.chord.tones[1:], 12]
    mid = [int(rng.choice(tones[1:])) for _ in range(2)]
    return [(0, 0), (4, mid[0]), (8, mid[1]), (12, _interval("A", bar.chord, bar.next_chord,
                                                             root))]


def _place(root_pc: int, program: int, low: int) -> int:
    lo, hi = program_range(program)
    root = nearest(root_pc, low + 6)
    while root < lo:
        root += 12
    while root + 12 > hi:
        root -= 12
    return root


def bass_part(*, bars: list[Bar], style: str, program: int, energy: str, feel: Feel,
              rng: np.random.Generator) -> list[Note]:
    """Notes of the bass stem; the root sits in E1..Eb2 (raised into the program's range)."""
    if style == "syncopated":
        rhythm = _syncopated(rng)
    elif style != "walking":
        options = BASS_RHYTHMS[style]
        rhythm = options[int(rng.integers(len(options)))]
    lo, hi = program_range(program)
    notes = []
    for bar in bars:
        root = _place(bar.chord.root, program, 28)
        if style == "walking":
            events = [(s, 4, iv) for s, iv in _walk(bar, root, rng)]
        else:
            events = [(s, n, _interval(c, bar.chord, bar.next_chord, root)) for s, n, c in rhythm
                      if not (c == "r" and energy == "low")]
        for step, length, iv in events:
            w = 1.0 if step % 4 == 0 else 0.85
            notes.append(Note(feel.time(bar.index, step), feel.length(length) * 0.92,
                              fit_range(root + iv, lo, hi), feel.vel(w)))
    return notes
