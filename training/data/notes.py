"""NSynth-like one-shot notes rendered from General MIDI programs.

:func:`render_notes` writes ``out/audio/<note_str>.wav`` and ``out/examples.json`` in
NSynth's own layout (see :func:`~rtsim.training.data.families.nsynth_example`), so the
NSynth loader reads both. Each note is one GM program (a family of
:data:`~rtsim.training.data.families.FAMILIES`) at one MIDI pitch within the program's
playable range and one of NSynth's five velocities; it is held for three quarters of
``seconds`` then released, as NSynth holds 3 s of its 4-s notes.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rtsim.errors import ConfigError
from rtsim.training.data.families import NSYNTH_PROGRAMS, nsynth_example
from rtsim.training.data.gm import program_range
from rtsim.training.data.notes_render import NoteJob, render_note_job
from rtsim.training.data.pool import run_jobs

__all__ = ["VELOCITIES", "NoteSpec", "examples_json", "plan_notes", "render_notes"]

log = logging.getLogger(__name__)

VELOCITIES = (25, 50, 75, 100, 127)
"""NSynth's five MIDI velocities."""

BATCH = 32
"""Notes rendered by one fluidsynth call."""


class NoteSpec(NamedTuple):
    """One planned note: GM ``program``, MIDI ``pitch``, MIDI ``velocity``."""

    program: int
    pitch: int
    velocity: int


def _grid(program: int, rng: np.random.Generator) -> list[NoteSpec]:
    lo, hi = program_range(program)
    grid = [NoteSpec(program, p, v) for p in range(lo, hi + 1) for v in VELOCITIES]
    return [grid[i] for i in rng.permutation(len(grid))]


def plan_notes(*, seed: int, size: int, programs=NSYNTH_PROGRAMS) -> list[NoteSpec]:
    """The ``size`` notes :func:`render_notes` renders for ``seed``.

    Programs take turns (each round visits them in a new random order), so every
    program gets ``size // len(programs)`` or one more notes; each program's notes are
    distinct (pitch, velocity) pairs drawn uniformly from its range × :data:`VELOCITIES`.
    A smaller ``size`` with the same seed gives a prefix of a larger one.
    """
    rng = np.random.default_rng(seed)
    grids = {p: _grid(p, rng) for p in programs}
    capacity = sum(len(g) for g in grids.values())
    if not 1 <= size <= capacity:
        raise ConfigError(f"size={size!r} notes must be in 1..{capacity} for these programs")
    plan: list[NoteSpec] = []
    while len(plan) < size:
        live = [p for p in programs if grids[p]]
        for i in rng.permutation(len(live)):
            plan.append(grids[live[i]].pop())
            if len(plan) == size:
                break
    return plan


def _jobs(examples: list[dict], *, audio: Path, soundfont: str, sr: int,
          seconds: float) -> list[NoteJob]:
    jobs = []
    for i in range(0, len(examples), BATCH):
        chunk = examples[i:i + BATCH]
        jobs.append(NoteJob(programs=[e["program"] for e in chunk],
                            pitches=[e["pitch"] for e in chunk],
                            velocities=[e["velocity"] for e in chunk],
                            paths=[str(audio / f"{e['note_str']}.wav") for e in chunk],
                            soundfont=soundfont, sr=sr, seconds=seconds))
    return jobs


def examples_json(examples: list[dict]) -> str:
    """NSynth's ``examples.json`` text: an object keyed by ``note_str``, a note a line."""
    lines = [f"{json.dumps(e['note_str'])}: {json.dumps(e)}" for e in examples]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def render_notes(out: str | os.PathLike, *, soundfont: str | os.PathLike | None = None,
                 seed: int = 0, size: int = 1000, sr: int = 16000, seconds: float = 4.0,
                 workers: int = 2, progress: bool = True) -> Path:
    """Render ``size`` one-shot notes into an NSynth-layout folder.

    Parameters
    ----------
    out : str or os.PathLike
        Folder to write: ``audio/<note_str>.wav`` (16-bit PCM, mono) and ``examples.json``
        (a dict keyed by ``note_str``), plus ``render.json`` with these parameters.
    soundfont : str, os.PathLike or None
        ``.sf2`` path or short name (``fluidr3``, ``timgm6mb``); None is FluidR3_GM.
    seed : int
        Chooses the notes (see :func:`plan_notes`); same seed, same notes and audio.
    size : int
        Number of notes (= files), spread evenly over the 97 GM programs that have an
        NSynth family.
    sr : int
        Sample rate (Hz).
    seconds : float
        Length of each file; the note is held for ``0.75 * seconds``.
    workers : int
        fluidsynth processes run at once.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Path
        ``out``.
    """
    from rtsim.training.data.fluid import resolve_soundfont

    if seconds <= 0:
        raise ConfigError(f"seconds={seconds!r} must be > 0")
    sf2 = str(resolve_soundfont(soundfont))
    out = Path(out)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    plan = plan_notes(seed=seed, size=size)
    examples = [nsynth_example(note=i, program=n.program, pitch=n.pitch, velocity=n.velocity,
                               sr=sr) for i, n in enumerate(plan)]
    jobs = _jobs(examples, audio=out / "audio", soundfont=sf2, sr=sr, seconds=seconds)
    run_jobs(render_note_job, jobs, workers=workers, description="notes", progress=progress)
    meta = {"kind": "notes", "seed": seed, "size": size, "sr": sr, "seconds": seconds,
            "soundfont": sf2}
    (out / "render.json").write_text(json.dumps(meta, indent=1) + "\n")
    (out / "examples.json").write_text(examples_json(examples))
    log.info("wrote %d notes to %s", len(examples), out)
    return out
