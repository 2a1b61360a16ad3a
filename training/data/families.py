"""NSynth's instrument families and sources, and which GM programs belong to which.

NSynth (Engel et al. 2017) labels every note with an instrument *family* (11 classes,
indices as in its ``examples.json``) and a *source* (acoustic, electronic, synthetic).
:data:`PROGRAM_FAMILY` assigns a family to each GM program that makes a sensible pitched
one-shot; pads, sound effects and unpitched percussion are left out (``None``).
"""

from __future__ import annotations

from rtsim.training.data.gm import program_name

__all__ = [
    "FAMILIES",
    "NSYNTH_PROGRAMS",
    "PROGRAM_FAMILY",
    "SOURCES",
    "nsynth_example",
    "program_source",
]

FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
            "string", "synth_lead", "vocal")
"""NSynth family names; a family's index here is its ``instrument_family``."""

SOURCES = ("acoustic", "electronic", "synthetic")
"""NSynth source names; a source's index here is its ``instrument_source``."""


def _family_table() -> tuple[str | None, ...]:
    blocks = (["keyboard"] * 8 + ["mallet"] * 8 + ["organ"] * 5 + ["reed"] * 3
              + ["guitar"] * 8 + ["bass"] * 8 + ["string"] * 7 + ["mallet"]
              + ["string"] * 4 + ["vocal"] * 3 + [None] + ["brass"] * 8 + ["reed"] * 8
              + ["flute"] * 8 + ["synth_lead"] * 8 + [None] * 16
              + ["guitar"] * 3 + ["string", "mallet", "reed", "string", "reed"]
              + ["mallet", None, "mallet"] + [None] * 13)
    return tuple(blocks)


PROGRAM_FAMILY = _family_table()
"""NSynth family name of each GM program 0..127, or None where the program is not used."""

NSYNTH_PROGRAMS = tuple(p for p, fam in enumerate(PROGRAM_FAMILY) if fam is not None)
"""The GM programs :func:`~rtsim.training.data.notes.render_notes` draws from."""

_ELECTRONIC = {2, 4, 5, 7, 16, 17, 18, *range(26, 32), *range(33, 38)}
_SYNTHETIC = {38, 39, 50, 51, 54, 62, 63, *range(80, 88)}


def program_source(program: int) -> str:
    """NSynth source of a GM program: ``"electronic"``, ``"synthetic"`` or ``"acoustic"``."""
    if program in _ELECTRONIC:
        return "electronic"
    return "synthetic" if program in _SYNTHETIC else "acoustic"


def nsynth_example(*, note: int, program: int, pitch: int, velocity: int, sr: int) -> dict:
    """One ``examples.json`` entry in NSynth's layout, plus ``program``/``program_name``.

    ``instrument`` is the GM program; ``instrument_str`` is
    ``<family>_<source>_<program:03d>`` and ``note_str`` is
    ``<instrument_str>-<pitch:03d>-<velocity:03d>``, as NSynth names its notes.
    """
    family, source = PROGRAM_FAMILY[program], program_source(program)
    if family is None:
        raise ValueError(f"program={program} has no NSynth family")
    instrument_str = f"{family}_{source}_{program:03d}"
    return {
        "note": note,
        "note_str": f"{instrument_str}-{pitch:03d}-{velocity:03d}",
        "instrument": program,
        "instrument_str": instrument_str,
        "instrument_family": FAMILIES.index(family),
        "instrument_family_str": family,
        "instrument_source": SOURCES.index(source),
        "instrument_source_str": source,
        "pitch": pitch,
        "velocity": velocity,
        "sample_rate": sr,
        "qualities": [0] * 10,
        "qualities_str": [],
        "program": program,
        "program_name": program_name(program),
    }
