"""Drum parts: a groove pattern per preset, varied per piece, with fills and crashes.

Patterns are 16-step strings per voice (:func:`~.groove.pattern_steps`). Per piece,
a few kick hits are added or dropped, the time-keeping voice (closed hat, ride,
shaker) and an optional percussion layer are chosen, and a one-beat fill is drawn;
these stay fixed through the piece so its drums are recognisable. High energy doubles
the time-keeping voice to sixteenths where it plays eighths and crashes on section
starts; low energy drops ghost notes and softens.
"""

from __future__ import annotations

import numpy as np

from rtsim.training.data.midi import Note
from rtsim.training.data.songs.groove import STEPS, Bar, Feel, pattern_steps

__all__ = ["DRUM_NOTES", "PATTERNS", "drum_part"]

DRUM_NOTES = {"kick": 36, "rim": 37, "snare": 38, "clap": 39, "hat": 42, "pedal": 44,
              "open": 46, "crash": 49, "ride": 51, "tamb": 54, "cowbell": 56,
              "conga": 63, "low_conga": 64, "shaker": 70, "claves": 75}
"""GM percussion key of each voice name used in the patterns."""

TOMS = (50, 48, 47, 45, 43, 41)

PATTERNS = {
    "rock": {"kick": "x.....o.x.o.....", "snare": "....x.......x...",
             "hat": "x.o.x.o.x.o.x.o."},
    "rock_half": {"kick": "x.......o.o.....", "snare": "........x.......",
                  "hat": "x.o.x.o.x.o.x.o."},
    "funk": {"kick": "x..o..o...o..o..", "snare": "....x..g.g..x..g",
             "hat": "xgogxgogxgogxgog"},
    "swing": {"ride": "x...x.o.x...x.o.", "pedal": "....o.......o...",
              "kick": "g...g...g...g...", "snare": "......g.......g."},
    "brush": {"snare": "o.g.o.g.o.g.o.g.", "pedal": "....o.......o...",
              "kick": "o.......o......."},
    "four_floor": {"kick": "x...x...x...x...", "clap": "....x.......x...",
                   "open": "..o...o...o...o.", "hat": "g.g.g.g.g.g.g.g."},
    "breakbeat": {"kick": "x.x.......xo....", "snare": "....x..g.g..x..g",
                  "hat": "x.o.x.o.x.o.x.o."},
    "bossa": {"kick": "x..ox..ox..ox..o", "rim": "x..x..x...x..x..",
              "hat": "o.o.o.o.o.o.o.o."},
    "samba": {"kick": "o..xo..xo..xo..x", "rim": "x.x..x.x.x.x..x.",
              "hat": "xgogxgogxgogxgog"},
    "one_drop": {"kick": "........x.......", "rim": "........x.......",
                 "hat": "o.o.o.o.o.o.o.o."},
    "steppers": {"kick": "x...x...x...x...", "rim": "........x.......",
                 "hat": "..o...o...o...o."},
}
"""Groove patterns by name: voice -> 16 steps."""

_PERC = {"tamb": "....o.......o...", "shaker": "ogggoggg" * 2, "cowbell": "o...o...o...o...",
         "conga": "...o..o....o.oo.", "claves": "x..x..x...x.x..."}


def _vary(name: str, rng: np.random.Generator, energy: str) -> dict:
    voices = {v: list(p) for v, p in PATTERNS[name].items()}
    kick = voices.get("kick")
    if kick and rng.random() < 0.7:
        free = [i for i in range(2, STEPS, 2) if kick[i] == "."]
        for i in rng.choice(free, size=min(len(free), int(rng.integers(1, 3))), replace=False):
            kick[i] = "o"
    if "hat" in voices and name != "four_floor" and rng.random() < 0.3:
        voices["ride"] = voices.pop("hat")
    if energy == "high":
        for v in ("hat", "ride"):
            if v in voices and voices[v][1] == ".":
                voices[v] = [c if c != "." else "g" for c in voices[v]]
    else:
        voices = {v: [c if c != "g" or v in ("ride", "pedal") else "." for c in p]
                  for v, p in voices.items()}
    if rng.random() < 0.4:
        name = str(rng.choice(sorted(_PERC)))
        voices[name] = list(_PERC[name])
    return {v: "".join(p) for v, p in voices.items()}


def _fill(rng: np.random.Generator) -> list[tuple[int, int]]:
    """A one-beat fill: four (step, key) pairs over steps 12..15."""
    voices = [int(rng.choice(TOMS)) for _ in range(3)] + [DRUM_NOTES["snare"]]
    order = rng.permutation(4) if rng.random() < 0.5 else np.arange(4)
    return [(12 + i, voices[j]) for i, j in enumerate(order)]


def drum_part(*, bars: list[Bar], pattern: str, energy: str, feel: Feel,
              rng: np.random.Generator) -> list[Note]:
    """Notes of the drum stem (GM percussion keys on the drum channel)."""
    voices = {v: pattern_steps(p) for v, p in _vary(pattern, rng, energy).items()}
    fill, fill_p = _fill(rng), 0.9 if energy == "high" else 0.5
    notes = []
    for bar in bars:
        filling = bar.phrase_end and rng.random() < fill_p
        for voice, steps in voices.items():
            for step, w in steps:
                if filling and step >= 12 and voice != "kick":
                    continue
                notes.append(Note(feel.time(bar.index, step), 0.25, DRUM_NOTES[voice],
                                  feel.vel(w)))
        if filling:
            notes += [Note(feel.time(bar.index, s), 0.25, k, feel.vel(0.9)) for s, k in fill]
        if bar.section_start and (energy == "high" or bar.index == 0):
            notes.append(Note(feel.time(bar.index, 0), 1.0, DRUM_NOTES["crash"], feel.vel(1.0)))
    return notes
