"""One fluidsynth call renders a batch of notes, cut into one-shots.

The batch's notes sit in slots of ``seconds + GAP`` seconds; each is held for
``HOLD * seconds``, then *all sound off* at the end of its slot keeps tails out of the
next; a program change precedes each note. Reverb and chorus are off, so each file is
the dry note.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from rtsim.training.data.fluid import render_midi
from rtsim.training.data.midi import TICKS_PER_BEAT, conductor_track

__all__ = ["GAIN", "GAP", "HOLD", "NoteJob", "note_batch_midi", "render_note_job"]

log = logging.getLogger(__name__)

GAP = 0.5
"""Seconds of silence between the slots of a batch."""
HOLD = 0.75
"""Fraction of ``seconds`` a note is held before its release."""
GAIN = 1.0
"""fluidsynth master gain of the notes (velocity 127 peaks stay below full scale)."""
BPM = 60.0
"""Tempo of the batch MIDI: one beat is one second."""


@dataclass(frozen=True)
class NoteJob:
    """Notes to render into ``paths`` (one wav per note)."""

    programs: list[int]
    pitches: list[int]
    velocities: list[int]
    paths: list[str]
    soundfont: str
    sr: int
    seconds: float
    channel: int = 0


def note_batch_midi(*, programs: list[int], pitches: list[int], velocities: list[int],
                    seconds: float, channel: int = 0) -> mido.MidiFile:
    """The MIDI of a batch: note ``k`` starts at ``k * (seconds + GAP)`` seconds.

    ``channel`` 9 (GM's drum channel) makes each program change select a drum kit.
    """
    slot = seconds + GAP
    mf = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    mf.tracks.append(conductor_track(bpm=BPM, end_beats=len(pitches) * slot))
    track = mido.MidiTrack([mido.MetaMessage("track_name", name="notes", time=0)])
    now = 0
    for k, (prog, pitch, vel) in enumerate(zip(programs, pitches, velocities, strict=True)):
        start = round(k * slot * TICKS_PER_BEAT)
        off = start + round(HOLD * seconds * TICKS_PER_BEAT)
        cut = start + round(seconds * TICKS_PER_BEAT)
        ch = channel
        for tick, msg in ((start, mido.Message("program_change", channel=ch, program=prog)),
                          (start, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)),
                          (off, mido.Message("note_off", channel=ch, note=pitch)),
                          (cut, mido.Message("control_change", channel=ch, control=120))):
            track.append(msg.copy(time=tick - now))
            now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    mf.tracks.append(track)
    return mf


def render_note_job(job: NoteJob) -> int:
    """Render ``job`` and write its wav files; returns the number of notes written."""
    mf = note_batch_midi(programs=job.programs, pitches=job.pitches,
                         velocities=job.velocities, seconds=job.seconds, channel=job.channel)
    with tempfile.TemporaryDirectory(prefix="rtsim-notes-") as tmp:
        mid = Path(tmp) / "batch.mid"
        mf.save(mid)
        y = render_midi(mid, soundfont=job.soundfont, sr=job.sr, gain=GAIN)
    if np.abs(y).max() > 1.0:
        log.warning("notes of programs %s clip (peak %.2f)", sorted(set(job.programs)),
                    float(np.abs(y).max()))
    n, slot = round(job.seconds * job.sr), (job.seconds + GAP) * job.sr
    for k, path in enumerate(job.paths):
        start = round(k * slot)
        clip = np.zeros(n, np.float32)
        seg = y[start:start + n]
        clip[:len(seg)] = seg
        sf.write(path, np.clip(clip, -1.0, 1.0), job.sr, subtype="PCM_16")
    return len(job.paths)
