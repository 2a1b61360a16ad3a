"""From a plan to notes and MIDI: the form, the chords of each bar, every part.

The form repeats ``A A B A`` (each section is its four-chord progression, one or two
bars per chord) for as many bars as ``seconds`` needs, plus one. Each role's notes come
from its own random stream, ``default_rng([seed, index, role number])``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mido
import numpy as np

from rtsim.training.data.gm import DRUM_CHANNEL
from rtsim.training.data.midi import (
    TICKS_PER_BEAT,
    Note,
    conductor_track,
    instrument_track,
)
from rtsim.training.data.songs.bass import bass_part
from rtsim.training.data.songs.drums import drum_part
from rtsim.training.data.songs.groove import Bar, Feel
from rtsim.training.data.songs.guitar import guitar_part
from rtsim.training.data.songs.keys import chord_part
from rtsim.training.data.songs.melody import melody_part
from rtsim.training.data.songs.plan import SongPlan
from rtsim.training.data.songs.styles import ROLES
from rtsim.training.data.songs.theory import diatonic_chord, key_signature

__all__ = ["CHANNELS", "FORM", "Song", "compose_song", "form_bars", "song_midi"]

FORM = "AABA"
CHANNELS = {"drums": DRUM_CHANNEL, "bass": 0, "piano": 1, "guitar": 2, "extra": 3, "vocal": 4}
"""MIDI channel of each role."""


@dataclass(frozen=True)
class Song:
    """A composed piece: its plan, length in bars, and each role's notes."""

    plan: SongPlan
    n_bars: int
    parts: dict

    @property
    def end_beats(self) -> float:
        """Length of the form in beats."""
        return 4.0 * self.n_bars


def form_bars(plan: SongPlan, *, seconds: float) -> list[Bar]:
    """The bars covering ``seconds`` (plus one), with their chords and sections."""
    n_bars = math.ceil(seconds * plan.tempo_bpm / 240.0) + 1
    size = 4 if plan.sevenths else 3
    chords, sections, starts = [], [], []
    while len(chords) <= n_bars:
        for name in FORM:
            for k, degree in enumerate(plan.progressions[name]):
                raised = degree == 4 and plan.raised_leading
                chord = diatonic_chord(degree, tonic=plan.tonic, mode=plan.mode, size=size,
                                       raised_leading=raised)
                chords += [chord] * plan.bars_per_chord
                sections += [name] * plan.bars_per_chord
                starts += [k == 0] + [False] * (plan.bars_per_chord - 1)
    section_len = 4 * plan.bars_per_chord
    return [Bar(index=i, chord=chords[i], next_chord=chords[i + 1], section=sections[i],
                section_start=starts[i], phrase_end=(i + 1) % section_len == 0)
            for i in range(n_bars)]


def _part(role: str, plan: SongPlan, bars: list[Bar], rng: np.random.Generator) -> list[Note]:
    style, program, energy = plan.parts[role], plan.programs[role], plan.energy
    unit = plan.style.swing_unit
    feel = Feel(swing=plan.swing, unit=unit, energy=energy, rng=rng,
                jitter=0.004 if role == "drums" else 0.01)
    if role == "drums":
        return drum_part(bars=bars, pattern=style, energy=energy, feel=feel, rng=rng)
    if role == "bass":
        return bass_part(bars=bars, style=style, program=program, energy=energy, feel=feel,
                         rng=rng)
    if role == "guitar":
        return guitar_part(bars=bars, style=style, program=program, energy=energy,
                           mode=plan.mode, feel=feel, rng=rng)
    if style == "melody":
        return melody_part(bars=bars, program=program, tonic=plan.tonic, mode=plan.mode,
                           energy=energy, feel=feel, rng=rng)
    register = plan.style.register + (7 if role == "extra" else 0)
    return chord_part(bars=bars, style=style, program=program, energy=energy,
                      register=register, feel=feel, rng=rng,
                      left_hand=role == "piano" and style == "block")


def compose_song(plan: SongPlan, *, seconds: float) -> Song:
    """All parts of ``plan`` for ``seconds`` of music."""
    bars = form_bars(plan, seconds=seconds)
    parts = {}
    for role in plan.programs:
        rng = np.random.default_rng([plan.seed, plan.index, ROLES.index(role)])
        parts[role] = [n for n in _part(role, plan, bars, rng) if n.start < 4 * len(bars)]
    return Song(plan=plan, n_bars=len(bars), parts=parts)


def song_midi(song: Song) -> dict:
    """``{role: MidiFile}`` of one stem each, and ``"all"``: every stem in one file."""
    plan, end = song.plan, song.end_beats
    key = key_signature(plan.tonic, plan.mode)

    def new() -> mido.MidiFile:
        mf = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
        mf.tracks.append(conductor_track(bpm=plan.tempo_bpm, key=key, end_beats=end))
        return mf

    files, everything = {}, new()
    for role, notes in song.parts.items():
        program = 0 if role == "drums" else plan.programs[role]
        kit = plan.programs["drums"] if role == "drums" else None
        track = instrument_track(notes, channel=CHANNELS[role],
                                 program=kit if kit is not None else program,
                                 name=plan.instrument_name(role), end_beats=end)
        files[role] = new()
        files[role].tracks.append(track)
        everything.tracks.append(track)
    files["all"] = everything
    return files
