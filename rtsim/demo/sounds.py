"""Deterministic synthetic instruments for the demo library and the tests.

Six pitched families and three drums, each a small pure function of pitch, duration and
sample rate. They are far from real instruments, but distinct in the ways timbre spaces
care about (harmonic balance, attack, decay, noise), so a similarity model has
something to find without any download.
"""

from __future__ import annotations

import numpy as np


def lfilter(b, a, x, **kw):
    """``scipy.signal.lfilter``, imported on first use (a cached demo never renders).

    scipy.signal alone takes about a second to import.
    """
    from scipy.signal import lfilter as _lfilter

    return _lfilter(b, a, x, **kw)

__all__ = ["FAMILIES", "PITCHED", "DRUMS", "render_note", "midi_to_hz"]

PITCHED = ("pluck", "bell", "organ", "brass", "flute", "marimba")
DRUMS = ("kick", "snare", "hat")
FAMILIES = PITCHED + DRUMS


def midi_to_hz(midi: float) -> float:
    """Equal-tempered frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def render_note(family: str, *, midi: int = 60, seconds: float = 1.2, sr: int = 44100,
                velocity: float = 0.8, seed: int = 0) -> np.ndarray:
    """One note of ``family``, shape (round(seconds·sr),), float32, peak ``velocity``."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {FAMILIES}")
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    f = midi_to_hz(midi)
    rng = np.random.default_rng(seed)
    x = _RENDER[family](t, f, sr, rng)
    x *= _fade(n, sr)
    peak = float(np.max(np.abs(x))) or 1.0
    return (velocity * x / peak).astype(np.float32)


def _pluck(t, f, sr, rng):
    period = max(2, int(round(sr / f)))
    excite = np.zeros(t.size)
    excite[:period] = rng.uniform(-1, 1, period)
    a = np.zeros(period + 2)
    a[0], a[period], a[period + 1] = 1.0, -0.498, -0.498
    return lfilter([1.0], a, excite)


def _bell(t, f, sr, rng):
    index = 4.0 * np.exp(-t * 3)
    return np.exp(-t * 2.5) * np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * 1.4 * f * t))


def _organ(t, f, sr, rng):
    env = np.minimum(1.0, t / 0.02)
    harm = sum(a * np.sin(2 * np.pi * k * f * t) for k, a in ((1, 1), (2, 0.5), (3, 0.6), (4, 0.2))
               if k * f < sr / 2)
    return env * harm


def _brass(t, f, sr, rng):
    saw = 2 * ((f * t) % 1.0) - 1
    cutoff = f * (1 + 8 * np.minimum(1.0, t / 0.08) * np.exp(-t * 1.5))
    alpha = 1 - np.exp(-2 * np.pi * np.clip(cutoff, 20, sr / 2.5) / sr)
    y, acc = np.empty_like(saw), 0.0
    for i in range(0, saw.size, 64):  # time-varying one-pole, 64-sample control rate
        a = alpha[i]
        seg, zi = lfilter([a], [1, a - 1], saw[i : i + 64], zi=[acc * (1 - a)])
        y[i : i + 64], acc = seg, seg[-1]
    return np.minimum(1.0, t / 0.05) * y


def _flute(t, f, sr, rng):
    env = np.minimum(1.0, t / 0.1)
    breath = lfilter([0.05], [1, -0.95], rng.standard_normal(t.size))
    return env * (np.sin(2 * np.pi * f * t) + 0.15 * np.sin(4 * np.pi * f * t) + breath)


def _marimba(t, f, sr, rng):
    y = np.exp(-t * 6) * np.sin(2 * np.pi * f * t)
    if 4 * f < sr / 2:
        y += 0.4 * np.exp(-t * 20) * np.sin(2 * np.pi * 4 * f * t)
    return y


def _kick(t, f, sr, rng):
    freq = 45 + 120 * np.exp(-t * 25)
    return np.exp(-t * 7) * np.sin(2 * np.pi * np.cumsum(freq) / sr)


def _snare(t, f, sr, rng):
    noise = lfilter([1, -1], [1], rng.standard_normal(t.size))
    return np.exp(-t * 14) * (0.6 * noise + np.sin(2 * np.pi * 190 * t))


def _hat(t, f, sr, rng):
    noise = lfilter([1, -2, 1], [1], rng.standard_normal(t.size))
    return np.exp(-t * 40) * noise


def _fade(n: int, sr: int) -> np.ndarray:
    """Short fade-out so every note ends at zero."""
    env = np.ones(n)
    k = min(n, int(0.01 * sr))
    env[n - k :] = np.linspace(1, 0, k)
    return env


_RENDER = {"pluck": _pluck, "bell": _bell, "organ": _organ, "brass": _brass,
           "flute": _flute, "marimba": _marimba, "kick": _kick, "snare": _snare, "hat": _hat}
