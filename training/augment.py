"""What differs between two sample libraries of the same sounds, as random transforms.

Each function takes a batch of mono waveforms ``x`` (batch, n) at ``sr`` and per-example
parameters, and returns a new batch of the same shape; :func:`augment` draws the
parameters and applies a random subset, so that two views of one sound differ the way two
libraries' recordings of the same kind of sound differ: level, EQ and tilt, room and
reverb, microphone distance (a dull, reverberant take), background noise, a small pitch
(varispeed) change, bit depth, and lossy coding (read from a pre-encoded copy, see
:func:`vorbis_roundtrip`); off unless asked, a shorter decay (a damped or gated hit) and
saturation (a driven drum machine or console). Onset shifts come from where the sample
sits in its window.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import scipy.fft
import soundfile as sf
import torch

__all__ = ["AugmentConfig", "augment", "gain", "eq", "reverb", "add_noise", "varispeed",
           "quantize", "decay", "saturate", "vorbis_roundtrip"]


MAX_IR_S = 0.6
"""Longest reverb tail kept (s): a longer room's tail beyond it is below the window's view."""


def gain(x: torch.Tensor, db: torch.Tensor) -> torch.Tensor:
    """Scale each row by ``db`` decibels."""
    return x * (10.0 ** (db / 20.0))[:, None]


def _freqs(n: int, sr: int) -> torch.Tensor:
    return torch.fft.rfftfreq(n, 1.0 / sr).clamp_min(1.0)


def eq(x: torch.Tensor, sr: int, *, tilt_db_oct: torch.Tensor, low_hz: torch.Tensor,
       high_hz: torch.Tensor) -> torch.Tensor:
    """A spectral tilt (dB per octave around 1 kHz) and smooth 2nd-order low/high cuts."""
    f = _freqs(x.shape[1], sr)[None]
    mag = 10.0 ** (tilt_db_oct[:, None] * torch.log2(f / 1000.0) / 20.0)
    mag = mag / torch.sqrt(1 + (low_hz[:, None] / f) ** 4)
    mag = mag / torch.sqrt(1 + (f / high_hz[:, None]) ** 4)
    return torch.fft.irfft(torch.fft.rfft(x) * mag, n=x.shape[1])


def reverb(x: torch.Tensor, sr: int, *, rt60_s: torch.Tensor, wet: torch.Tensor,
           gen: torch.Generator) -> torch.Tensor:
    """Convolve with exponentially decaying noise (a diffuse room of ``rt60_s``), mixed ``wet``.

    The impulse response has unit energy, so ``wet`` is the reverberant-to-direct ratio.
    """
    b, n = x.shape
    ir_len = int(min(MAX_IR_S, float(rt60_s.max())) * sr)
    t = torch.arange(ir_len) / sr
    ir = torch.randn(b, ir_len, generator=gen) * torch.exp(-6.91 * t[None] / rt60_s[:, None])
    ir = ir / ir.norm(dim=1, keepdim=True).clamp_min(1e-9)
    m = scipy.fft.next_fast_len(n + ir_len, real=True)
    y = torch.fft.irfft(torch.fft.rfft(x, n=m) * torch.fft.rfft(ir, n=m), n=m)[:, :n]
    return x + wet[:, None] * y


def add_noise(x: torch.Tensor, *, snr_db: torch.Tensor, pink: torch.Tensor,
              gen: torch.Generator) -> torch.Tensor:
    """White or pink (1/f) noise at ``snr_db`` below each row's RMS."""
    b, n = x.shape
    w = torch.randn(b, n, generator=gen)
    spec = torch.fft.rfft(w)
    k = torch.arange(spec.shape[1]).clamp_min(1).float()
    spec = torch.where(pink[:, None], spec / torch.sqrt(k)[None], spec)
    noise = torch.fft.irfft(spec, n=n)
    noise = noise / noise.pow(2).mean(1, keepdim=True).sqrt().clamp_min(1e-9)
    rms = x.pow(2).mean(1, keepdim=True).sqrt()
    return x + noise * rms * (10.0 ** (-snr_db / 20.0))[:, None]


def varispeed(x: torch.Tensor, semitones: torch.Tensor) -> torch.Tensor:
    """Play each row faster or slower (pitch and length change together), length kept."""
    b, n = x.shape
    out = torch.zeros_like(x)
    for i in range(b):
        rate = 2.0 ** (float(semitones[i]) / 12.0)
        pos = torch.arange(n) * rate
        ok = pos <= n - 1
        p = pos[ok]
        lo = p.floor().long()
        hi = (lo + 1).clamp_max(n - 1)
        frac = p - lo
        out[i, : int(ok.sum())] = x[i, lo] * (1 - frac) + x[i, hi] * frac
    return out


def decay(x: torch.Tensor, sr: int, *, onset: torch.Tensor, tau_s: torch.Tensor) -> torch.Tensor:
    """Damp each row after its ``onset`` (sample index, may be negative): ``exp(-t / tau_s)``.

    A shorter ring of the same hit: a muffled kick, a gated snare, a choked cymbal.
    """
    t = torch.arange(x.shape[1])[None] - onset[:, None]
    return x * torch.exp(-t.clamp_min(0) / (tau_s[:, None] * sr))


def saturate(x: torch.Tensor, drive_db: torch.Tensor) -> torch.Tensor:
    """Soft clipping (tanh) of each row driven ``drive_db`` past its peak; peak level kept."""
    peak = x.abs().amax(1, keepdim=True).clamp_min(1e-6)
    g = (10.0 ** (drive_db / 20.0))[:, None]
    return torch.tanh(g * x / peak) / torch.tanh(g) * peak


def quantize(x: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """Round each row to ``bits``-bit samples (full scale 1.0)."""
    step = (2.0 ** (1 - bits))[:, None]
    return torch.round(x / step) * step


def vorbis_roundtrip(x: np.ndarray, sr: int, *, quality: float = 0.1) -> np.ndarray:
    """``x`` encoded to Ogg Vorbis at ``quality`` (0 worst .. 1 best) and decoded back."""
    buf = io.BytesIO()
    sf.write(buf, np.asarray(x, np.float32), sr, format="OGG", subtype="VORBIS",
             compression_level=1.0 - quality)
    buf.seek(0)
    y, _ = sf.read(buf, dtype="float32")
    out = np.zeros(len(x), np.float32)
    out[: min(len(x), len(y))] = y[: len(x)]
    return out


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of :func:`augment` (each transform drawn independently)."""

    gain_db: tuple[float, float] = (-18.0, 6.0)
    p_eq: float = 0.8
    tilt_db_oct: tuple[float, float] = (-4.0, 4.0)
    low_hz: tuple[float, float] = (20.0, 250.0)
    high_hz: tuple[float, float] = (2500.0, 11000.0)
    p_reverb: float = 0.5
    rt60_s: tuple[float, float] = (0.15, 1.2)
    wet: tuple[float, float] = (0.1, 0.8)
    p_noise: float = 0.5
    snr_db: tuple[float, float] = (15.0, 50.0)
    p_varispeed: float = 0.5
    semitones: tuple[float, float] = (-1.0, 1.0)
    p_quantize: float = 0.15
    bits: tuple[int, int] = (6, 12)
    p_lossy: float = 0.3
    p_invert: float = 0.5
    p_decay: float = 0.0
    decay_s: tuple[float, float] = (0.05, 0.6)
    p_drive: float = 0.0
    drive_db: tuple[float, float] = (3.0, 18.0)


def _uniform(gen, b, lo_hi) -> torch.Tensor:
    lo, hi = lo_hi
    return lo + (hi - lo) * torch.rand(b, generator=gen)


def _log_uniform(gen, b, lo_hi) -> torch.Tensor:
    return torch.exp(_uniform(gen, b, (np.log(lo_hi[0]), np.log(lo_hi[1]))))


def augment(x: torch.Tensor, sr: int, gen: torch.Generator,
            cfg: AugmentConfig = AugmentConfig(),
            onsets: torch.Tensor | None = None) -> torch.Tensor:
    """A random view of each row of ``x`` (batch, n); lossy coding is the caller's (pre-encoded).

    ``onsets`` (sample index of each row's sound start; default 0) is where
    :func:`decay` starts.
    """
    b = x.shape[0]
    x = x.clone()

    def some(p: float) -> tuple[torch.Tensor, int]:
        rows = torch.nonzero(torch.rand(b, generator=gen) < p).flatten()
        return rows, len(rows)

    if cfg.p_decay > 0:
        rows, k = some(cfg.p_decay)
        if k:
            start = torch.zeros(b) if onsets is None else onsets.float()
            x[rows] = decay(x[rows], sr, onset=start[rows],
                            tau_s=_log_uniform(gen, k, cfg.decay_s))
    if cfg.p_drive > 0:
        rows, k = some(cfg.p_drive)
        if k:
            x[rows] = saturate(x[rows], _uniform(gen, k, cfg.drive_db))
    rows, k = some(cfg.p_varispeed)
    if k:
        x[rows] = varispeed(x[rows], _uniform(gen, k, cfg.semitones))
    rows, k = some(cfg.p_eq)
    if k:
        x[rows] = eq(x[rows], sr, tilt_db_oct=_uniform(gen, k, cfg.tilt_db_oct),
                     low_hz=_log_uniform(gen, k, cfg.low_hz),
                     high_hz=_log_uniform(gen, k, cfg.high_hz))
    rows, k = some(cfg.p_reverb)
    if k:
        x[rows] = reverb(x[rows], sr, rt60_s=_log_uniform(gen, k, cfg.rt60_s),
                         wet=_uniform(gen, k, cfg.wet), gen=gen)
    rows, k = some(cfg.p_noise)
    if k:
        x[rows] = add_noise(x[rows], snr_db=_uniform(gen, k, cfg.snr_db),
                            pink=torch.rand(k, generator=gen) < 0.5, gen=gen)
    x = gain(x, _uniform(gen, b, cfg.gain_db))
    rows, k = some(cfg.p_invert)
    x[rows] = -x[rows]
    rows, k = some(cfg.p_quantize)
    if k:
        bits = torch.randint(cfg.bits[0], cfg.bits[1] + 1, (k,), generator=gen).float()
        x[rows] = quantize(x[rows], bits)
    return x.clamp(-1.0, 1.0)
