"""Drawing a piece's labels and musical choices from its seed.

Everything about piece ``index`` of a corpus with ``seed`` comes from
``numpy.random.default_rng([seed, index])``, so a piece does not depend on the corpus
size or the number of workers. Genre (preset), mode, energy, tempo, tonic and the
programs are drawn independently; programs lean towards the preset's favourites.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rtsim.training.data.gm import DRUM_KITS, program_name
from rtsim.training.data.songs.styles import FAVOURITE_P, MOODS, PRESETS, ROLE_POOLS, Style
from rtsim.training.data.songs.theory import KEY_NAMES, PROGRESSIONS, roman

__all__ = ["EXTRA_P", "SongPlan", "labels", "plan_song", "with_band"]

EXTRA_P = 0.6
"""Chance that a piece has an ``extra`` stem."""


@dataclass(frozen=True)
class SongPlan:
    """The labels and choices of one piece (see the ``songs`` package for the labels)."""

    seed: int
    index: int
    preset: str
    mode: str
    energy: str
    tempo_bpm: int
    tonic: int
    programs: dict
    parts: dict
    swing: float
    sevenths: bool
    progressions: dict
    bars_per_chord: int
    raised_leading: bool = False

    @property
    def style(self) -> Style:
        """The preset."""
        return PRESETS[self.preset]

    @property
    def genre(self) -> str:
        """Genre label."""
        return self.style.genre

    @property
    def mood(self) -> str:
        """Mood label (happy, calm, sad, tense)."""
        return MOODS[(self.mode, self.energy)]

    @property
    def key(self) -> str:
        """Tonic name, e.g. ``"F#"``."""
        return KEY_NAMES[self.tonic]

    def instrument_name(self, role: str) -> str:
        """GM name of the role's program (kit name for drums)."""
        prog = self.programs[role]
        return DRUM_KITS.get(prog, f"Kit {prog}") if role == "drums" else program_name(prog)

    @property
    def instruments(self) -> list[str]:
        """Instrument label: the GM names of the programs used, in role order."""
        return [self.instrument_name(r) for r in self.programs]


def _pick(rng: np.random.Generator, items) -> object:
    return items[int(rng.integers(len(items)))]


def _program(rng: np.random.Generator, style: Style, role: str) -> int:
    pool = style.favourites[role] if rng.random() < FAVOURITE_P else ROLE_POOLS[role]
    return int(_pick(rng, pool))


def plan_song(*, seed: int, index: int) -> SongPlan:
    """The plan of piece ``index`` of the corpus drawn with ``seed``."""
    rng = np.random.default_rng([seed, index])
    style = PRESETS[_pick(rng, sorted(PRESETS))]
    mode = _pick(rng, ("major", "minor"))
    energy = _pick(rng, ("low", "high"))
    tempo = int(rng.integers(style.tempo[0], style.tempo[1] + 1))
    tonic = int(rng.integers(12))
    roles = ["drums", "bass", "piano", "guitar"] + (["extra"] if rng.random() < EXTRA_P else [])
    programs = {r: _program(rng, style, r) for r in roles}
    parts = {r: str(_pick(rng, getattr(style, r))) for r in roles}
    a, b = rng.choice(len(PROGRESSIONS[mode]), size=2, replace=False)
    progs = {name: [int(d) for d in PROGRESSIONS[mode][i]] for name, i in (("A", a), ("B", b))}
    return SongPlan(
        seed=seed, index=index, preset=style.name, mode=mode, energy=energy,
        tempo_bpm=tempo, tonic=tonic, programs=programs, parts=parts,
        swing=round(float(rng.uniform(*style.swing)), 3),
        sevenths=bool(rng.random() < style.sevenths), progressions=progs,
        bars_per_chord=int(_pick(rng, (1, 2))),
        raised_leading=bool(rng.random() < 0.5),
    )


def with_band(plan: SongPlan, band, rng: np.random.Generator) -> SongPlan:
    """``plan`` as its singer's band plays it (:class:`~.singers.Band`).

    Every role the piece has takes the band's program; the tempo sits at the band's place
    in the preset's range (± 8 % of the range); the tonic is one of the band's home keys.
    Genre, mode, energy, parts and harmony stay the piece's own.
    """
    lo, hi = plan.style.tempo
    place = float(np.clip(band.tempo + rng.normal(0.0, 0.08), 0.0, 1.0))
    return dataclasses.replace(
        plan, programs={r: int(band.programs[r]) for r in plan.programs},
        tempo_bpm=int(round(lo + place * (hi - lo))),
        tonic=int(band.keys[int(rng.integers(len(band.keys)))]))


def labels(plan: SongPlan, *, seconds: float) -> dict:
    """The ``rtsim:`` section of ``metadata.yaml`` for ``plan``."""
    return {
        "genre": plan.genre, "mood": plan.mood, "instruments": plan.instruments,
        "tempo_bpm": plan.tempo_bpm, "key": plan.key, "mode": plan.mode,
        "energy": plan.energy, "preset": plan.preset, "seed": plan.seed,
        "index": plan.index, "seconds": seconds, "programs": dict(plan.programs),
        "parts": dict(plan.parts), "swing": plan.swing,
        "progressions": {k: [roman(d, plan.mode) for d in v]
                         for k, v in plan.progressions.items()},
        "bars_per_chord": plan.bars_per_chord,
    }
