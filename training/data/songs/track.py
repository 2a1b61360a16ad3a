"""One piece written as a Slakh2100 track folder: MIDI, metadata, and (optionally) audio.

Layout (as in Slakh2100)::

    TrackNNNNN/
        metadata.yaml      stems: {S00: {inst_class, program_num, is_drum, ...}}, rtsim: {...}
        all_src.mid        every stem in one file
        MIDI/SNN.mid       one file per stem
        stems/SNN.flac     one mono file per stem
        mix.flac           the sum of the stems

Stems are rendered one fluidsynth call each (reverb and chorus on), trimmed to
``seconds``, brought to a per-role RMS level, then scaled together by ``overall_gain``
so that the mix peaks at -1 dBFS at most; ``mix.flac`` is their sum.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from rtsim.training.data.gm import program_name, slakh_class
from rtsim.training.data.songs.compose import compose_song, song_midi
from rtsim.training.data.songs.plan import SongPlan, labels, plan_song

__all__ = ["ROLE_LEVEL_DB", "TrackJob", "make_track", "stem_ids", "track_name"]

ROLE_LEVEL_DB = {"drums": -20.0, "bass": -21.0, "piano": -23.0, "guitar": -23.0,
                 "extra": -25.0}
"""RMS level (dBFS) each role's stem is brought to before the mix gain."""
PEAK = 10 ** (-1 / 20)


@dataclass(frozen=True)
class TrackJob:
    """Everything one worker needs to write piece ``index``."""

    out: str
    seed: int
    index: int
    seconds: float
    sr: int
    soundfont: str | None
    midi_only: bool


def track_name(index: int) -> str:
    """Slakh's folder name of piece ``index`` (0-based): ``Track00001`` for 0."""
    return f"Track{index + 1:05d}"


def stem_ids(plan: SongPlan) -> dict:
    """``{role: "SNN"}``: the roles in a per-piece shuffled order, as Slakh's vary."""
    order = np.random.default_rng([plan.seed, plan.index, 99]).permutation(len(plan.programs))
    roles = list(plan.programs)
    return {roles[i]: f"S{k:02d}" for k, i in enumerate(order)}


def _stem_meta(plan: SongPlan, role: str, *, rendered: bool, plugin: str) -> dict:
    drum = role == "drums"
    prog = plan.programs[role]
    return {"audio_rendered": rendered, "inst_class": slakh_class(prog, is_drum=drum),
            "is_drum": drum, "midi_program_name": "Drums" if drum else program_name(prog),
            "midi_saved": True, "plugin_name": plugin, "program_num": 128 if drum else prog}


def metadata(plan: SongPlan, *, seconds: float, rendered: bool, plugin: str,
             overall_gain: float | None = None) -> dict:
    """The ``metadata.yaml`` document of a piece (Slakh's keys, then ``rtsim``)."""
    ids = stem_ids(plan)
    uuid = hashlib.md5(f"rtsim-{plan.seed}-{plan.index}".encode()).hexdigest()
    doc = {"UUID": uuid, "audio_dir": "stems", "midi_dir": "MIDI", "normalized": rendered,
           "overall_gain": overall_gain,
           "stems": {ids[r]: _stem_meta(plan, r, rendered=rendered, plugin=plugin)
                     for r in sorted(ids, key=ids.get)},
           "target_peak": -1.0, "rtsim": labels(plan, seconds=seconds)}
    return doc


def _render_stems(folder: Path, ids: dict, job: TrackJob) -> tuple[dict, float]:
    from rtsim.training.data.fluid import render_midi

    n = round(job.seconds * job.sr)
    stems = {}
    for role, sid in ids.items():
        y = render_midi(folder / "MIDI" / f"{sid}.mid", soundfont=job.soundfont, sr=job.sr,
                        gain=0.5, effects=True)[:n]
        y = np.pad(y, (0, n - len(y)))
        rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
        stems[sid] = y * (10 ** (ROLE_LEVEL_DB[role] / 20) / rms if rms > 1e-6 else 1.0)
    peak = float(np.max(np.abs(sum(stems.values()))))
    gain = min(1.0, PEAK / peak) if peak > 0 else 1.0
    return {sid: (y * gain).astype(np.float32) for sid, y in stems.items()}, gain


def make_track(job: TrackJob) -> str:
    """Compose piece ``job.index`` and write its track folder; returns the folder path."""
    plan = plan_song(seed=job.seed, index=job.index)
    folder = Path(job.out) / track_name(job.index)
    (folder / "MIDI").mkdir(parents=True, exist_ok=True)
    files, ids = song_midi(compose_song(plan, seconds=job.seconds)), stem_ids(plan)
    files["all"].save(folder / "all_src.mid")
    for role, sid in ids.items():
        files[role].save(folder / "MIDI" / f"{sid}.mid")
    gain, plugin = None, Path(job.soundfont).name if job.soundfont else "none"
    if not job.midi_only:
        stems, gain = _render_stems(folder, ids, job)
        (folder / "stems").mkdir(exist_ok=True)
        for sid, y in stems.items():
            sf.write(folder / "stems" / f"{sid}.flac", y, job.sr, subtype="PCM_16")
        sf.write(folder / "mix.flac", sum(stems.values()), job.sr, subtype="PCM_16")
    doc = metadata(plan, seconds=job.seconds, rendered=not job.midi_only, plugin=plugin,
                   overall_gain=gain)
    with open(folder / "metadata.yaml", "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False, default_flow_style=False)
    return str(folder)
