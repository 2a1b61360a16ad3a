"""Sung notes from the speech synthesisers Debian ships: festival and espeak-ng.

A voice is ``festival:<voice>`` (a diphone voice such as ``kal_diphone``, sung by
festival's own singing mode at a requested note) or ``espeak:<voice>[+<variant>]``
(espeak-ng speaks the syllable nearly monotone at one of its pitch settings). Either way
a syllable is rendered once per voice at a few source pitches (the voice's *bank*), its
pitch track measured (:func:`f0_track`), and every sung note is then made from the bank
entry nearest in pitch by :func:`retune`: read at a time-varying rate that puts the
pitch exactly on the note (plus vibrato), so the voice's own wobble is removed. Reading
faster also moves the formants by the same factor, which is how a singer's formant
shift is made (the source is taken that factor below the note). :func:`hold` then
holds the vowel (a crossfaded loop of whole periods, :func:`loop_points`) or cuts the note
to its length.

No file is downloaded: the voices are the packages ``festival``, ``festvox-kallpc16k``,
``festvox-kdlpc16k`` and ``espeak-ng``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtsim.audio.files import load_audio
from rtsim.errors import ConfigError

__all__ = ["BankEntry", "SYLLABLES", "bank", "contour", "f0_track", "hold", "loop_points", "retune",
           "speak",
           "voice_available"]

SYLLABLES = ("la", "na", "da", "ma", "lo", "no", "oh", "ah", "hey", "yeah", "love", "you",
             "me", "so", "go", "day", "night", "light", "home", "baby")
"""The lyric vocabulary: open vowels that sing well in every voice."""
SR = 22050
HOP = 110
"""Pitch-track hop (samples at ``SR``): 5 ms."""
FRAME = 1024
"""Pitch-track frame (samples)."""
FESTIVAL_NOTES = (43, 47, 51, 55, 59, 63, 67, 71)
"""MIDI notes festival sings a bank at (its singing mode follows them exactly)."""
ESPEAK_PITCHES = (0, 25, 50, 75, 99)
"""espeak-ng ``-p`` settings of a bank (the voice's base pitch, about an octave)."""


@dataclass(frozen=True)
class BankEntry:
    """One rendered syllable: audio at ``SR``, its pitch track (Hz, 0 unvoiced) and median."""

    syllable: str
    audio: np.ndarray
    f0: np.ndarray
    median: float

    @property
    def midi(self) -> float:
        """Median pitch as a MIDI number."""
        return 69.0 + 12.0 * np.log2(self.median / 440.0)


def voice_available(voice: str) -> bool:
    """Whether ``voice`` (``festival:...`` or ``espeak:...``) can be rendered here."""
    engine, _, name = voice.partition(":")
    if engine == "festival":
        return shutil.which("text2wave") is not None and any(
            Path("/usr/share/festival/voices").glob(f"*/{name}"))
    if engine == "espeak":
        return shutil.which("espeak-ng") is not None
    return False


def _pitches(voice: str) -> tuple[int, ...]:
    """The source pitches of ``voice``'s bank."""
    return FESTIVAL_NOTES if voice.startswith("festival:") else ESPEAK_PITCHES


def _require(voice: str) -> None:
    if not voice_available(voice):
        raise ConfigError(f"voice {voice!r} is not installed (apt-get install festival "
                          "festvox-kallpc16k festvox-kdlpc16k espeak-ng)")


def _festival_note_name(midi: int) -> str:
    # festival's singing mode names notes one octave lower than MIDI's (its A4 is 220 Hz)
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return f"{names[midi % 12]}{midi // 12}"


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise ConfigError(f"{what} failed (exit {done.returncode}): "
                          f"{(done.stderr or done.stdout).strip()[-300:]}")


def speak(voice: str, syllable: str, *, pitch: int) -> np.ndarray:
    """One syllable from ``voice`` as float32 audio at ``SR``.

    ``pitch`` is the MIDI note festival sings, or espeak-ng's ``-p`` (0..99).
    """
    engine, _, name = voice.partition(":")
    _require(voice)
    with tempfile.TemporaryDirectory(prefix="rtsim-voice-") as tmp:
        wav = os.path.join(tmp, "v.wav")
        if engine == "festival":
            xml = os.path.join(tmp, "s.xml")
            # festival's beats last 50/BPM s: BPM 50 and 0.9 beats is a 0.9-s note
            Path(xml).write_text(
                '<?xml version="1.0"?>\n<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING '
                'mark up//EN" "Singing.v0_1.dtd" []>\n<SINGING BPM="50">'
                f'<PITCH NOTE="{_festival_note_name(pitch)}"><DURATION BEATS="0.9">'
                f'{syllable}</DURATION></PITCH></SINGING>\n')
            _run(["text2wave", "-mode", "singing", "-eval", f"(voice_{name})", xml, "-o", wav],
                 f"festival singing {syllable!r} with {name}")
        else:
            ssml = f"<speak><prosody range='x-low' rate='slow'>{syllable}</prosody></speak>"
            _run(["espeak-ng", "-m", "-v", name, "-p", str(int(pitch)), "-w", wav, ssml],
                 f"espeak-ng {syllable!r} with {name}")
        y, _ = load_audio(wav, sr=SR)  # mono, at SR (festival's voices are 16 kHz)
    nz = np.flatnonzero(np.abs(y) > 1e-3 * max(float(np.abs(y).max()), 1e-9))
    return y[nz[0]:nz[-1] + 1] if len(nz) else y


def f0_track(y: np.ndarray, *, fmin: float = 60.0, fmax: float = 900.0,
             threshold: float = 0.2) -> np.ndarray:
    """Pitch (Hz) every ``HOP`` samples of ``y`` at ``SR`` by YIN; 0 where unvoiced.

    Frames of ``FRAME`` samples; the cumulative-mean-normalised difference's first dip below
    ``threshold`` within [SR/fmax, SR/fmin], refined parabolically.
    """
    n, lo, hi = FRAME, int(SR / fmax), int(SR / fmin)
    if len(y) < n + hi:
        y = np.pad(y, (0, n + hi - len(y)))
    starts = np.arange(0, len(y) - n - hi + 1, HOP)
    frames = np.lib.stride_tricks.sliding_window_view(y.astype(np.float64), n + hi)[starts]
    spec = np.fft.rfft(frames, 2 * (n + hi), axis=1)
    head = np.fft.rfft(frames[:, :n], 2 * (n + hi), axis=1)
    r = np.fft.irfft(spec * np.conj(head), axis=1)[:, :hi + 1]
    sq = np.cumsum(frames ** 2, axis=1)
    energy0 = sq[:, n - 1]
    lag = np.arange(hi + 1)
    energy_lag = sq[:, lag + n - 1] - np.concatenate([np.zeros((len(frames), 1)),
                                                      sq[:, :hi]], axis=1)
    d = energy0[:, None] + energy_lag - 2 * r
    d[:, 0] = 0
    cmnd = np.ones_like(d)
    cs = np.cumsum(d[:, 1:], axis=1)
    cmnd[:, 1:] = d[:, 1:] * lag[1:] / np.maximum(cs, 1e-12)
    f0 = np.zeros(len(frames))
    loud = energy0 > 1e-4 * n * max(float(np.max(energy0 / n)), 1e-12)
    for i in np.flatnonzero(loud):
        below = np.flatnonzero(cmnd[i, lo:hi] < threshold)
        if not len(below):
            continue
        t = lo + below[0]
        while t + 1 < hi and cmnd[i, t + 1] < cmnd[i, t]:
            t += 1
        a, b, c = cmnd[i, t - 1], cmnd[i, t], cmnd[i, min(t + 1, hi)]
        den = a - 2 * b + c
        f0[i] = SR / (t + (0.5 * (a - c) / den if abs(den) > 1e-12 else 0.0))
    return f0


def _render_bank(voice: str) -> dict[str, np.ndarray]:
    audio, f0s, syl = [], [], []
    for k, text in enumerate(SYLLABLES):
        for p in _pitches(voice):
            y = speak(voice, text, pitch=p)
            f0 = f0_track(y)
            if np.count_nonzero(f0) >= 20:
                audio.append(y)
                f0s.append(f0)
                syl.append(k)
    return {"audio": np.concatenate(audio or [np.zeros(0, np.float32)]),
            "audio_len": np.array([len(y) for y in audio], np.int64),
            "f0": np.concatenate(f0s or [np.zeros(0)]),
            "f0_len": np.array([len(f) for f in f0s], np.int64),
            "syllable": np.array(syl, np.int64)}


@functools.lru_cache(maxsize=64)
def bank(voice: str) -> tuple[BankEntry, ...]:
    """Every syllable of ``SYLLABLES`` rendered by ``voice`` at its bank's pitches.

    Entries whose pitch could not be tracked (fewer than 20 voiced frames) are dropped.
    Kept in rtsim's cache (``voicebank``) and per process: a voice is rendered once.
    """
    from rtsim.cache import cached_arrays

    _require(voice)
    # version 2: read through rtsim's own resampler (load_audio), was scipy's resample_poly
    key = {"voice": voice, "syllables": SYLLABLES, "sr": SR, "version": 2,
           "pitches": _pitches(voice)}
    arr = cached_arrays("voicebank", key, lambda: _render_bank(voice))
    a_end, f_end = np.cumsum(arr["audio_len"]), np.cumsum(arr["f0_len"])
    out = []
    for i, k in enumerate(arr["syllable"]):
        y = arr["audio"][a_end[i] - arr["audio_len"][i]:a_end[i]]
        f0 = arr["f0"][f_end[i] - arr["f0_len"][i]:f_end[i]]
        out.append(BankEntry(SYLLABLES[int(k)], y, f0, float(np.median(f0[f0 > 0]))))
    if not out:
        raise ConfigError(f"voice {voice!r} produced no pitched syllable")
    return tuple(out)


def contour(entry: BankEntry) -> np.ndarray:
    """The entry's pitch (Hz) at every sample, unvoiced gaps filled from their neighbours."""
    idx = np.flatnonzero(entry.f0 > 0)
    filled = np.interp(np.arange(len(entry.f0)), idx, entry.f0[idx])
    centres = np.arange(len(entry.f0)) * HOP + FRAME // 2  # a frame's pitch is its centre's
    return np.interp(np.arange(len(entry.audio)), centres, filled)


def retune(audio: np.ndarray, source_hz: np.ndarray, target_hz: np.ndarray | float, *,
           n_out: int) -> np.ndarray:
    """Read ``audio`` (pitch ``source_hz`` per sample) so its pitch follows ``target_hz``.

    Output sample ``i`` reads the source where the source's accumulated phase (cycles
    of its own pitch) equals the target's after ``i`` samples: the pitch lands exactly on
    the target, the voice's own wobble is removed, and the formants move by the local
    rate. Returns at most ``n_out`` samples (fewer when the source runs out).
    """
    phase_src = np.concatenate([[0.0], np.cumsum(source_hz[:-1])])
    target = np.broadcast_to(np.asarray(target_hz, np.float64), (n_out,))
    phase_out = np.concatenate([[0.0], np.cumsum(target[:-1])])
    phase_out = phase_out[phase_out <= phase_src[-1]]
    pos = np.interp(phase_out, phase_src, np.arange(len(audio), dtype=np.float64))
    return np.interp(pos, np.arange(len(audio)), audio).astype(np.float32)


def loop_points(y: np.ndarray, n_out: int, *, period: float, fade: int = 220) -> tuple:
    """``(start, span)`` of the loop that holds ``y`` to ``n_out`` samples (span 0: none).

    The loop is about 60 ms of whole periods (``period`` samples) at the loudest part of
    the second half of ``y``.
    """
    if len(y) >= n_out:
        return 0, 0
    span = int(round(max(1, round(0.06 * SR / period)) * period))
    half = len(y) // 2
    if len(y) - half >= span + fade + 1:
        env = np.convolve(np.abs(y[half:]), np.ones(span) / span, mode="valid")
        return half + int(np.argmax(env[:len(env) - fade])), span
    return max(0, len(y) - span - fade), span


def hold(x: np.ndarray, n_out: int, start: int, span: int, *, fade: int = 220) -> np.ndarray:
    """``x`` cut or held to ``n_out`` samples by repeating ``x[start:start+span]``.

    Each repeat's head blends in from the samples after the loop's end over ``fade``
    samples, so repeats join without a click.
    """
    if span > 0:
        seg = np.asarray(x[start:start + span + fade], np.float64)
        loop = seg[:min(span, len(seg))].copy()
        tail = seg[span:]
        if len(tail):
            w = np.linspace(0.0, 1.0, len(tail))
            loop[:len(tail)] = loop[:len(tail)] * w + tail * (1 - w)
        reps = int(np.ceil((n_out - start) / max(len(loop), 1))) + 1
        x = np.concatenate([x[:start], np.tile(loop, reps)])
    return np.asarray(x[:n_out])
