"""Front-end specifications: frozen, hashable, serialisable parameter sets.

A spec fully determines the features a front end produces, so it is what a trained
model and a library record (in their manifests) and what the engine checks before it
pairs a model or a library with a live front end. Two fields are implementation knobs
that do not change the features beyond their stated tolerance (``sparsity_tol``,
``bins_per_block``); :func:`identity` leaves them out.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from rtsim.errors import FrontEndError

__all__ = ["CQTSpec", "MelSpec", "FrontEndSpec", "spec_from_dict", "identity", "describe"]


@dataclass(frozen=True)
class CQTSpec:
    """Constant-Q transform, with nnAudio's kernels (``CQT1992v2``, librosa normalisation).

    Defaults are Humphrey's timbre front end: 16 kHz, 24 bins/octave, 192 bins (8 octaves)
    from 27.5 Hz, hop 800 samples (20 Hz frames), ``log(1 + 50·|X|)``.

    Parameters
    ----------
    sr : int
        Sample rate (Hz) of the audio the front end takes.
    hop_length : int
        Samples between frames.
    fmin : float
        Centre frequency (Hz) of the lowest bin.
    n_bins, bins_per_octave : int
        Number of bins and their density.
    filter_scale : float
        Kernel length scale (1 = one Q per bin, as librosa).
    window : str
        Kernel window (scipy name).
    mode : {"aligned", "low_latency"}
        ``"aligned"``: every bin is centred on one shared frame time, exactly nnAudio's
        ``center=False`` frames (all bins lag by half the longest kernel, ~0.62 s with the
        defaults). ``"low_latency"``: every kernel ends at the newest sample, so each bin
        lags only half its own kernel (~17/f s: 0.6 s at 27.5 Hz, 40 ms at 440 Hz).
    log_gain : float or None
        Compression ``log(1 + log_gain·|X|)``; None returns the linear magnitude.
    sparsity_tol : float
        Spectral-kernel entries whose removal changes each kernel's energy by at most
        ``sparsity_tol²`` are dropped (1e-4 keeps frames within ~1e-4 of the dense CQT).
    bins_per_block : int
        Bins sharing one FFT; each block's FFT only spans its own kernels' support.
    """

    kind: ClassVar[str] = "cqt"
    sr: int = 16000
    hop_length: int = 800
    fmin: float = 27.5
    n_bins: int = 192
    bins_per_octave: int = 24
    filter_scale: float = 1.0
    window: str = "hann"
    mode: str = "aligned"
    log_gain: float | None = 50.0
    sparsity_tol: float = 1e-4
    bins_per_block: int = 48

    def __post_init__(self) -> None:
        _check_common(self.sr, self.hop_length)
        if self.fmin <= 0:
            raise FrontEndError(f"fmin={self.fmin} must be > 0 Hz")
        top = self.fmin * 2.0 ** ((self.n_bins - 1) / self.bins_per_octave)
        if top >= self.sr / 2:
            raise FrontEndError(
                f"the top CQT bin ({top:.1f} Hz, n_bins={self.n_bins}) must be below "
                f"sr/2={self.sr / 2:g} Hz"
            )
        if self.mode not in ("aligned", "low_latency"):
            raise FrontEndError(f"mode={self.mode!r} must be 'aligned' or 'low_latency'")
        if self.n_bins < 1 or self.bins_per_octave < 1 or self.bins_per_block < 1:
            raise FrontEndError("n_bins, bins_per_octave and bins_per_block must be >= 1")
        if not 0 <= self.sparsity_tol < 0.1:
            raise FrontEndError(f"sparsity_tol={self.sparsity_tol} must be in [0, 0.1)")
        _check_gain(self.log_gain)


@dataclass(frozen=True)
class MelSpec:
    """Mel spectrogram with nnAudio's STFT and mel filters (``MelSpectrogram``).

    Defaults are Lee et al.'s disentangled front end: 22.05 kHz, ``n_fft`` 1024, hop 512,
    128 bands, power 2, ``log10(1 + 10·S)``.

    Parameters
    ----------
    sr : int
        Sample rate (Hz).
    n_fft, hop_length : int
        STFT window and hop (samples). Frames are not centred (``center=False``).
    n_mels : int
        Number of mel bands.
    fmin, fmax : float
        Band edges (Hz); ``fmax=None`` means sr/2.
    htk : bool
        HTK mel scale instead of Slaney's.
    window : str
        STFT window (scipy name).
    power : float
        Exponent of the magnitude (2 = power spectrogram).
    log_gain : float or None
        Compression ``log_base(1 + log_gain·S)``; None returns the linear mel spectrogram.
    log_base : float
        Base of that logarithm (10 for Lee et al.).
    """

    kind: ClassVar[str] = "mel"
    sr: int = 22050
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    htk: bool = False
    window: str = "hann"
    power: float = 2.0
    log_gain: float | None = 10.0
    log_base: float = 10.0

    def __post_init__(self) -> None:
        _check_common(self.sr, self.hop_length)
        if self.n_fft < 16:
            raise FrontEndError(f"n_fft={self.n_fft} must be >= 16")
        if self.n_mels < 1:
            raise FrontEndError(f"n_mels={self.n_mels} must be >= 1")
        fmax = self.sr / 2 if self.fmax is None else self.fmax
        if not 0 <= self.fmin < fmax <= self.sr / 2:
            raise FrontEndError(
                f"need 0 <= fmin={self.fmin} < fmax={fmax} <= sr/2={self.sr / 2:g}"
            )
        _check_gain(self.log_gain)
        if self.log_base <= 1:
            raise FrontEndError(f"log_base={self.log_base} must be > 1")


FrontEndSpec = CQTSpec | MelSpec
_KINDS: dict[str, type] = {"cqt": CQTSpec, "mel": MelSpec}
_IMPLEMENTATION_ONLY = ("sparsity_tol", "bins_per_block")


def spec_from_dict(d: dict[str, Any]) -> FrontEndSpec:
    """Build a spec from ``{"kind": "cqt", ...}`` (as written by :func:`identity`)."""
    d = dict(d)
    kind = d.pop("kind", None)
    if kind not in _KINDS:
        raise FrontEndError(f"unknown front end kind={kind!r}; known: {sorted(_KINDS)}")
    cls = _KINDS[kind]
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise FrontEndError(f"unknown {kind} parameter(s) {unknown}; known: {sorted(known)}")
    return cls(**d)


def identity(spec: FrontEndSpec) -> dict[str, Any]:
    """Parameters that define the features (for manifests and compatibility checks)."""
    d = {k: v for k, v in asdict(spec).items() if k not in _IMPLEMENTATION_ONLY}
    return {"kind": spec.kind, **d}


def describe(spec: FrontEndSpec) -> str:
    """Short human-readable form, e.g. ``cqt(sr=16000, hop_length=800, ...)``."""
    d = identity(spec)
    kind = d.pop("kind")
    return f"{kind}(" + ", ".join(f"{k}={v}" for k, v in d.items()) + ")"


def _check_common(sr: int, hop_length: int) -> None:
    if sr <= 0:
        raise FrontEndError(f"sr={sr} must be a positive sample rate")
    if hop_length < 1:
        raise FrontEndError(f"hop_length={hop_length} must be >= 1")


def _check_gain(gain: float | None) -> None:
    if gain is not None and not (gain > 0 and math.isfinite(gain)):
        raise FrontEndError(f"log_gain={gain} must be a positive finite number or None")
