"""Chordal parts: the piano stem's comping and the extra stem's pads and stabs.

Voicings are close-position chords near a centre pitch set by the preset's register and
the energy (high energy sits five semitones brighter), led smoothly from bar to bar.
Rhythms are chosen once per piece and replayed every bar (the ``B`` section of the
form uses a second rhythm), so each piece's comping is its own.
"""

from __future__ import annotations

import numpy as np

from rtsim.training.data.gm import program_range
from rtsim.training.data.midi import Note
from rtsim.training.data.songs.groove import Bar, Feel
from rtsim.training.data.songs.theory import fit_range, nearest, voicing

__all__ = ["chord_part", "comp_rhythm"]

_BLOCK = ((0, 16),), ((0, 8), (8, 8)), ((0, 6), (6, 10)), ((0, 4), (4, 4), (8, 4), (12, 4))


def comp_rhythm(rng: np.random.Generator, *, hits: int, length: int,
                offbeat: float = 0.7) -> tuple[tuple[int, int], ...]:
    """``hits`` distinct steps (offbeats favoured with weight ``offbeat``) of ``length``."""
    w = np.array([offbeat if s % 2 else (1 - offbeat) * 0.8 + 0.2 for s in range(16)])
    steps = sorted(int(s) for s in rng.choice(16, size=hits, replace=False, p=w / w.sum()))
    return tuple((s, length) for s in steps)


def _rhythm(style: str, energy: str, rng: np.random.Generator) -> tuple:
    high = energy == "high"
    if style in ("block", "pad"):
        return _BLOCK[int(rng.integers(2, 4))] if high else _BLOCK[int(rng.integers(0, 2))]
    if style == "pulse":
        return tuple((s, 2) for s in range(0, 16, 2 if high else 4))
    if style == "skank":
        return tuple((s, 1) for s in ((2, 6, 10, 14) if high else (4, 12)))
    if style == "stabs":
        return comp_rhythm(rng, hits=int(rng.integers(3, 6)), length=1, offbeat=0.6)
    return comp_rhythm(rng, hits=int(rng.integers(3, 5) if high else 2), length=2)


def _arp_order(style: str, rng: np.random.Generator, energy: str) -> tuple:
    step = 1 if energy == "high" and style == "arpeggio" else 2
    idx = [int(i) for i in rng.integers(0, 5, size=16 // step)]
    if style == "montuno":
        idx = [i if rng.random() < 0.8 else -1 for i in idx]
    return tuple((k * step, step, i) for k, i in enumerate(idx) if i >= 0)


def chord_part(*, bars: list[Bar], style: str, program: int, energy: str, register: int,
               feel: Feel, rng: np.random.Generator, left_hand: bool = False) -> list[Note]:
    """Notes of a chordal stem.

    ``style`` is one of ``block``, ``pulse``, ``comp``, ``stabs``, ``skank``, ``pad``
    (chords on a rhythm) or ``arpeggio``, ``montuno`` (broken chords; voicing tone
    ``i`` in 0..4, where 3 and 4 repeat the lowest tones an octave up). ``left_hand``
    adds the root an octave and a half below the voicing on each bar's first beat.
    """
    lo, hi = program_range(program)
    center = fit_range(64 + register + (5 if energy == "high" else 0), lo + 6, hi - 6)
    broken = style in ("arpeggio", "montuno")
    sections = {s: (_arp_order(style, rng, energy) if broken else _rhythm(style, energy, rng))
                for s in ("A", "B")}
    notes, prev = [], None
    for bar in bars:
        voice = voicing(bar.chord, center=center, prev=prev)
        prev = voice
        ext = voice + [p + 12 for p in voice]
        for event in sections[bar.section]:
            step, length = event[0], event[1]
            pitches = [ext[event[2]]] if broken else voice
            w = 0.95 if step % 4 == 0 else 0.8
            t, dur = feel.time(bar.index, step), feel.length(length) * 0.9
            notes += [Note(t, dur, fit_range(p, lo, hi), feel.vel(w)) for p in pitches]
        if left_hand:
            root = fit_range(nearest(bar.chord.root, center - 17), lo, hi)
            notes.append(Note(feel.time(bar.index, 0), 3.8, root, feel.vel(0.85)))
    return notes
