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
so that the mix peaks at -1 dBFS at most; ``mix.flac`` is their sum. With ``singers``
a piece also has a sung ``vocal`` stem (:mod:`.vocal`, ``inst_class: Vocals``), the last
stem id, sung by a singer drawn from the catalogue range ``[lo, hi)``; with ``bands`` too,
the singer's own band plays the piece (its programs, tempo and keys).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf
import yaml

from rtsim.training.data.gm import program_name, slakh_class
from rtsim.training.data.midi import instrument_track
from rtsim.training.data.songs.compose import CHANNELS, compose_song, form_bars, song_midi
from rtsim.training.data.songs.groove import Feel
from rtsim.training.data.songs.plan import SongPlan, labels, plan_song, with_band
from rtsim.training.data.songs.singers import Singer, band, singer
from rtsim.training.data.songs.vocal import render_vocal, vocal_line

__all__ = ["ROLE_LEVEL_DB", "TrackJob", "Vocal", "make_track", "stem_ids", "track_name",
           "vocal_for"]

ROLE_LEVEL_DB = {"drums": -20.0, "bass": -21.0, "piano": -23.0, "guitar": -23.0,
                 "extra": -25.0, "vocal": -19.0}
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
    singers: tuple[int, int] | None = None
    bands: bool = False
    """With ``singers``: each singer's pieces are played by its own band
    (:func:`~.singers.band`)."""


def track_name(index: int) -> str:
    """Slakh's folder name of piece ``index`` (0-based): ``Track00001`` for 0."""
    return f"Track{index + 1:05d}"


def stem_ids(plan: SongPlan, *, vocal: bool = False) -> dict:
    """``{role: "SNN"}``: the roles in a per-piece shuffled order, as Slakh's vary.

    A sung piece's ``vocal`` stem takes the id after them.
    """
    order = np.random.default_rng([plan.seed, plan.index, 99]).permutation(len(plan.programs))
    roles = list(plan.programs)
    ids = {roles[i]: f"S{k:02d}" for k, i in enumerate(order)}
    return {**ids, "vocal": f"S{len(ids):02d}"} if vocal else ids


VOCAL_PROGRAM = 53
"""GM Voice Oohs: the program of the vocal stem's MIDI file."""


@dataclass(frozen=True)
class Vocal:
    """A piece's sung part: its singer and ``(syllable, note)`` line."""

    singer: Singer
    line: list


def vocal_for(plan: SongPlan, *, seconds: float, singers: tuple[int, int],
              bands: bool = False) -> tuple[SongPlan, Vocal]:
    """The singer (drawn from ``singers`` by its affinity for the genre) and line of ``plan``.

    Returns the plan as it is played (with ``bands``, by the singer's band:
    :func:`~.plan.with_band`; otherwise ``plan`` itself) and the vocal.
    """
    lo, hi = singers
    rng = np.random.default_rng([plan.seed, plan.index, 77])
    w = np.array([singer(k).affinity(plan.genre) for k in range(lo, hi)])
    k = lo + int(rng.choice(hi - lo, p=w / w.sum()))
    who = singer(k)
    if bands:
        plan = with_band(plan, band(k), np.random.default_rng([plan.seed, plan.index, 78]))
    feel = Feel(swing=plan.swing, unit=plan.style.swing_unit, energy=plan.energy, rng=rng,
                jitter=0.01)
    line = vocal_line(bars=form_bars(plan, seconds=seconds), singer=who, tonic=plan.tonic,
                      mode=plan.mode, energy=plan.energy, feel=feel, rng=rng)
    return plan, Vocal(who, line)


def _vocal_midi(files: dict, vocal: Vocal, *, end_beats: float) -> None:
    """Add the vocal line to ``files``: a track of ``"all"`` and its own file ``"vocal"``."""
    track = instrument_track([n for _, n in vocal.line], channel=CHANNELS["vocal"],
                             program=VOCAL_PROGRAM, name="vocal", end_beats=end_beats)
    files["all"].tracks.append(track)
    files["vocal"] = mido.MidiFile(type=1, ticks_per_beat=files["all"].ticks_per_beat,
                                   tracks=[files["all"].tracks[0], track])


def _vocal_meta(vocal: Vocal, *, rendered: bool) -> dict:
    return {"audio_rendered": rendered, "inst_class": "Vocals", "is_drum": False,
            "midi_program_name": "Voice", "midi_saved": True,
            "plugin_name": vocal.singer.voice, "program_num": VOCAL_PROGRAM}


def _stem_meta(plan: SongPlan, role: str, *, rendered: bool, plugin: str) -> dict:
    drum = role == "drums"
    prog = plan.programs[role]
    return {"audio_rendered": rendered, "inst_class": slakh_class(prog, is_drum=drum),
            "is_drum": drum, "midi_program_name": "Drums" if drum else program_name(prog),
            "midi_saved": True, "plugin_name": plugin, "program_num": 128 if drum else prog}


def metadata(plan: SongPlan, *, seconds: float, rendered: bool, plugin: str,
             overall_gain: float | None = None, vocal: Vocal | None = None) -> dict:
    """The ``metadata.yaml`` document of a piece (Slakh's keys, then ``rtsim``)."""
    ids = stem_ids(plan, vocal=vocal is not None)
    uuid = hashlib.md5(f"rtsim-{plan.seed}-{plan.index}".encode()).hexdigest()
    stems = {ids[r]: _vocal_meta(vocal, rendered=rendered) if r == "vocal" else
             _stem_meta(plan, r, rendered=rendered, plugin=plugin)
             for r in sorted(ids, key=ids.get)}
    tags = labels(plan, seconds=seconds)
    if vocal is not None:
        tags["singer"] = vocal.singer.name
        tags["vocal"] = vocal.singer.labels()
    return {"UUID": uuid, "audio_dir": "stems", "midi_dir": "MIDI", "normalized": rendered,
            "overall_gain": overall_gain, "stems": stems, "target_peak": -1.0, "rtsim": tags}


def _render_stems(folder: Path, ids: dict, job: TrackJob, plan: SongPlan,
                  vocal: Vocal | None) -> tuple[dict, float]:
    from rtsim.training.data.fluid import render_midi

    n = round(job.seconds * job.sr)
    stems = {}
    for role, sid in ids.items():
        if role == "vocal":
            y = render_vocal(vocal.line, vocal.singer, tempo_bpm=plan.tempo_bpm, sr=job.sr,
                             seconds=job.seconds)
        else:
            y = render_midi(folder / "MIDI" / f"{sid}.mid", soundfont=job.soundfont,
                            sr=job.sr, gain=0.5, effects=True)[:n]
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
    vocal = None
    if job.singers:
        plan, vocal = vocal_for(plan, seconds=job.seconds, singers=job.singers,
                                bands=job.bands)
    song = compose_song(plan, seconds=job.seconds)
    files, ids = song_midi(song), stem_ids(plan, vocal=vocal is not None)
    if vocal is not None:
        _vocal_midi(files, vocal, end_beats=song.end_beats)
    files["all"].save(folder / "all_src.mid")
    for role, sid in ids.items():
        files[role].save(folder / "MIDI" / f"{sid}.mid")
    gain, plugin = None, Path(job.soundfont).name if job.soundfont else "none"
    if not job.midi_only:
        stems, gain = _render_stems(folder, ids, job, plan, vocal)
        (folder / "stems").mkdir(exist_ok=True)
        for sid, y in stems.items():
            sf.write(folder / "stems" / f"{sid}.flac", y, job.sr, subtype="PCM_16")
        sf.write(folder / "mix.flac", sum(stems.values()), job.sr, subtype="PCM_16")
    doc = metadata(plan, seconds=job.seconds, rendered=not job.midi_only, plugin=plugin,
                   overall_gain=gain, vocal=vocal)
    with open(folder / "metadata.yaml", "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False, default_flow_style=False)
    return str(folder)
