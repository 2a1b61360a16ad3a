"""Style presets: the genre-like knobs of a generated piece.

A preset fixes the *groove* (drum patterns, swing, part styles: how each role plays),
admits a wide tempo range and lists *favourite* GM programs per role. Mood (mode ×
energy), key, tempo and the programs are drawn independently of each other; only the
programs lean towards the preset's favourites (see :data:`FAVOURITE_P`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAVOURITE_P", "MOODS", "PRESETS", "ROLE_POOLS", "ROLES", "Style"]

ROLES = ("drums", "bass", "piano", "guitar", "extra")
"""Stem roles; ``extra`` is optional (strings, brass, reeds, leads, pads, organ)."""

ROLE_POOLS = {
    "drums": (0, 8, 16, 24, 25, 32, 40),
    "bass": (32, 33, 34, 35, 36, 37, 38, 39),
    "piano": (0, 1, 2, 3, 4, 5, 7),
    "guitar": (24, 25, 26, 27, 28, 29, 30),
    "extra": (11, 16, 18, 48, 50, 52, 56, 61, 62, 65, 66, 71, 73, 80, 81, 89),
}
"""GM programs each role may use (drums: bank-128 kit numbers)."""

FAVOURITE_P = 0.5
"""Chance that a role's program is drawn from the preset's favourites, not its pool."""

MOODS = {("major", "high"): "happy", ("major", "low"): "calm",
         ("minor", "low"): "sad", ("minor", "high"): "tense"}
"""Mood label of (mode, energy): valence from the mode, arousal from the energy."""


@dataclass(frozen=True)
class Style:
    """One preset. Part-style names are those of the ``drums``/``bass``/... modules."""

    name: str
    genre: str
    tempo: tuple[int, int]
    swing: tuple[float, float]
    swing_unit: float
    drums: tuple[str, ...]
    bass: tuple[str, ...]
    piano: tuple[str, ...]
    guitar: tuple[str, ...]
    extra: tuple[str, ...]
    favourites: dict
    sevenths: float
    register: int = 0


PRESETS = {s.name: s for s in (
    Style("rock", "rock", (84, 160), (0.5, 0.52), 0.5, ("rock", "rock_half"),
          ("eighths", "roots"), ("block", "pulse"), ("power", "strum"), ("pad", "melody"),
          {"drums": (0, 16, 8), "bass": (33, 34), "piano": (0, 1),
           "guitar": (29, 30), "extra": (18, 48, 81)}, 0.1, -2),
    Style("funk", "funk", (84, 128), (0.5, 0.58), 0.25, ("funk",),
          ("syncopated", "octaves"), ("comp", "stabs"), ("chank", "riff"),
          ("stabs", "melody"),
          {"drums": (0, 8, 24), "bass": (36, 37, 33, 38), "piano": (7, 4),
           "guitar": (28, 27), "extra": (61, 62, 66)}, 0.7),
    Style("jazz", "jazz", (72, 176), (0.6, 0.68), 0.5, ("swing", "brush"),
          ("walking",), ("comp", "block"), ("comp4", "arpeggio"), ("melody", "pad"),
          {"drums": (32, 40), "bass": (32, 35), "piano": (0, 4),
           "guitar": (26, 24), "extra": (65, 66, 56, 11, 73)}, 1.0),
    Style("house", "electronic", (96, 150), (0.5, 0.56), 0.25, ("four_floor", "breakbeat"),
          ("offbeat", "eighths", "syncopated"), ("arpeggio", "stabs"),
          ("riff", "arpeggio", "chank"), ("pad", "melody"),
          {"drums": (24, 25), "bass": (38, 39), "piano": (4, 5),
           "guitar": (27, 30), "extra": (81, 80, 89, 50)}, 0.3, 2),
    Style("bossa", "latin", (76, 150), (0.5, 0.53), 0.25, ("bossa", "samba"),
          ("bossa", "syncopated"), ("montuno", "comp"), ("bossa_comp", "arpeggio"),
          ("melody", "pad"),
          {"drums": (0, 8, 40), "bass": (32, 33, 35), "piano": (0, 2, 4),
           "guitar": (24, 25), "extra": (73, 65, 56, 48)}, 0.8),
    Style("reggae", "reggae", (66, 132), (0.5, 0.62), 0.5, ("one_drop", "steppers"),
          ("reggae", "roots"), ("skank", "block"), ("skank", "riff"), ("pad", "melody"),
          {"drums": (0, 8), "bass": (33, 38, 35), "piano": (0, 4),
           "guitar": (27, 28), "extra": (16, 61, 66)}, 0.2),
)}
"""The presets by name; ``genre`` is the label written for a piece of that preset."""
