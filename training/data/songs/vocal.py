"""The sung part of a piece: a melody from its harmony, syllables, and one singer's voice.

The vocal line is a melody (:func:`~.melody.melody_events`: a two-bar motif per section,
bent to the chords) in the singer's range; each motif step carries a syllable of the
piece's lyric, so a repeated motif repeats its words. :func:`render_vocal` sings it:
every note from the singer's voice bank (:mod:`.voice`), pitched exactly on the note
with the singer's vibrato and glide, then the singer's chain: breath noise, tilt EQ,
compression, saturation, a doubling delay and a room.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve, lfilter

from rtsim.audio.resample import resample
from rtsim.demo.sounds import midi_to_hz
from rtsim.training.data.midi import Note
from rtsim.training.data.songs import voice as V
from rtsim.training.data.songs.groove import Bar, Feel
from rtsim.training.data.songs.melody import melody_events
from rtsim.training.data.songs.singers import SEED, Singer

__all__ = ["VocalLine", "render_vocal", "singer_range", "vocal_line"]

VocalLine = list[tuple[str, Note]]
"""``(syllable, note)`` in time order."""


def singer_range(s: Singer) -> tuple[int, int]:
    """MIDI range ``(lo, hi)`` the singer sings: its bank's pitches moved by its formant."""
    midis = [e.midi for e in V.bank(s.voice)]
    lo, hi = int(np.ceil(min(midis) + s.formant)) + 2, int(np.floor(max(midis) + s.formant)) + 5
    return lo, max(hi, lo + 12)


def vocal_line(*, bars: list[Bar], singer: Singer, tonic: int, mode: str, energy: str,
               feel: Feel, rng: np.random.Generator) -> VocalLine:
    """The notes and syllables ``singer`` sings over ``bars``."""
    lo, hi = singer_range(singer)
    events = melody_events(bars=bars, lo=lo, hi=hi, tonic=tonic, mode=mode, energy=energy,
                           feel=feel, rng=rng)
    lyric = {s: rng.choice(len(V.SYLLABLES), size=32) for s in ("A", "B")}
    return [(V.SYLLABLES[int(lyric[sec][step])], note) for sec, step, note in events]


def _note(entries: dict, s: Singer, syl: str, note: Note, n_out: int,
          prev: int | None) -> np.ndarray:
    cands = entries.get(syl) or [e for es in entries.values() for e in es]
    e = min(cands, key=lambda c: abs(c.midi - (note.pitch - s.formant)))
    t = np.arange(n_out) / V.SR
    cents = s.vibrato_cents * np.sin(2 * np.pi * s.vibrato_hz * t) * np.clip(
        (t - s.vibrato_delay) / 0.15, 0.0, 1.0)
    if prev is not None and s.glide > 0:
        cents += 100.0 * (prev - note.pitch) * np.exp(-t / s.glide)
    target = midi_to_hz(note.pitch) * 2.0 ** (cents / 1200.0)
    need = int(n_out * midi_to_hz(note.pitch) / e.median * 1.1) + 2 * V.HOP
    start, span = V.loop_points(e.audio, need, period=V.SR / e.median)
    y = V.retune(V.hold(e.audio, need, start, span), V.hold(V.contour(e), need, start, span),
                 target, n_out=n_out)
    env = np.ones(len(y), np.float32)
    a, r = min(len(y), int(s.attack * V.SR)), min(len(y), int(0.03 * V.SR))
    env[:a] = np.linspace(0.0, 1.0, a)
    env[len(y) - r:] *= np.linspace(1.0, 0.0, r)
    return y * env * (note.velocity / 100.0)


def _smooth(x: np.ndarray, seconds: float) -> np.ndarray:
    a = np.exp(-1.0 / max(1.0, seconds * V.SR))
    return lfilter([1 - a], [1, -a], x)


def _chain(y: np.ndarray, s: Singer, rng: np.random.Generator) -> np.ndarray:
    """The singer's processing: breath, tilt, compression, drive, doubling, room."""
    env = _smooth(np.abs(y), 0.02)
    y = y + s.breath * 3.0 * np.diff(rng.standard_normal(len(y) + 1)) * env
    low = _smooth(y, 1.0 / (2 * np.pi * 1500.0))
    y = y + s.tilt * (y - low) if s.tilt > 0 else (1 + s.tilt) * y - s.tilt * low
    level = np.sqrt(_smooth(y * y, 0.01)) + 1e-9
    thr = np.sqrt(np.mean(y * y)) + 1e-9
    y = y * np.where(level > thr, (level / thr) ** (-0.75 * s.compress), 1.0)
    if s.drive > 0:
        y = np.tanh(s.drive * y / (np.abs(y).max() + 1e-9)) / np.tanh(s.drive)
    if s.double_ms > 0:
        t = np.arange(len(y))
        d = (s.double_ms + 1.5 * np.sin(2 * np.pi * 0.3 * t / V.SR)) * V.SR / 1000.0
        y = y + 0.6 * np.interp(t - d, t, y, left=0.0)
    n_ir = int(s.room * V.SR)
    ir = rng.standard_normal(n_ir) * np.exp(-6.9 * np.arange(n_ir) / n_ir)
    wet = fftconvolve(y, ir)[:len(y)]
    wet *= np.sqrt(np.mean(y * y) / max(float(np.mean(wet * wet)), 1e-12))
    return y + s.reverb * wet


def render_vocal(line: VocalLine, singer: Singer, *, tempo_bpm: float, sr: int,
                 seconds: float) -> np.ndarray:
    """``singer`` singing ``line``: float32 audio, ``seconds`` long at ``sr``.

    Deterministic: the singer's breath noise and room come from its own seed.
    """
    entries: dict = {}
    for e in V.bank(singer.voice):
        entries.setdefault(e.syllable, []).append(e)
    spb = 60.0 / tempo_bpm
    n = int(round(seconds * V.SR))
    out = np.zeros(n + V.SR, np.float64)
    prev = None
    for syl, note in line:
        i0 = int(round(note.start * spb * V.SR))
        if i0 >= n:
            break
        y = _note(entries, singer, syl, note, max(1, int(note.length * spb * V.SR)), prev)
        y = y[:len(out) - i0]
        out[i0:i0 + len(y)] += y
        prev = note.pitch
    rng = np.random.default_rng([SEED, int(singer.name.removeprefix("singer")), 1])
    y = _chain(out, singer, rng)[:n]
    if sr != V.SR:
        y = resample(y.astype(np.float32), sr_in=V.SR, sr_out=sr)[:round(seconds * sr)]
    return y.astype(np.float32)
