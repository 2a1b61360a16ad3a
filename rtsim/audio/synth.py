"""Deterministic test signals from a small spec string, offline or as a source.

Specs (frequencies in Hz, durations in s):

=========================  ==========================================================
``sine:440``               sine
``sweep:50-8000:10``       logarithmic sweep 50 → 8000 Hz over 10 s, repeating
``noise``                  seeded white noise, uniform in ``[-amplitude, amplitude)``
``clicks:4``               one-sample clicks, 4 per second
``bursts:440,880:0.5``     0.5-s tone bursts (5-ms fades), cycling through the
                           frequencies, each followed by 0.5 s of silence
``silence``                zeros
``dc:0.3``                 constant 0.3 (``amplitude`` is ignored)
``nan``                    NaN samples (for bad-input tests)
=========================  ==========================================================

Every sample is a function of its absolute index, so rendering block by block (as
:class:`SynthSource` does) gives exactly :func:`synth_signal` over the whole length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rtsim.audio.sources import SourceConfig
from rtsim.audio.threaded import ThreadedSource
from rtsim.errors import ConfigError

__all__ = ["DEFAULT_SR", "SynthSource", "SynthSpec", "parse_spec", "render", "synth_signal"]

_FORMS = (
    "sine:F, sweep:F0-F1:SECONDS, noise, clicks:RATE, bursts:F1,F2,...:SECONDS, silence, "
    "dc:LEVEL, nan"
)
DEFAULT_SR = 48000
_NOISE_PAGE = 4096
_FADE_S = 0.005


@dataclass(frozen=True)
class SynthSpec:
    """A parsed signal spec: ``kind`` plus its numbers (``freqs`` in Hz, ``seconds``, ``value``)."""

    kind: str
    freqs: tuple[float, ...] = ()
    seconds: float = 0.0
    value: float = 0.0


def parse_spec(spec: str) -> SynthSpec:
    """Parse ``spec`` (see the module docstring); ConfigError naming it if malformed."""
    kind, _, rest = str(spec).strip().partition(":")
    args = rest.split(":") if rest else []
    try:
        parsed = _parse(kind, args)
    except (ValueError, IndexError):
        parsed = None
    if parsed is None:
        raise ConfigError(f"signal spec {spec!r} is not understood (accepted: {_FORMS})")
    return parsed


def _parse(kind: str, args: list[str]) -> SynthSpec | None:
    shapes = {"sine": 1, "sweep": 2, "noise": 0, "clicks": 1, "bursts": 2, "silence": 0,
              "dc": 1, "nan": 0}  # fmt: skip
    if shapes.get(kind) != len(args):
        return None
    if kind == "sweep":
        f0, f1 = (float(f) for f in args[0].split("-"))
        out = SynthSpec(kind, (f0, f1), seconds=float(args[1]))
    elif kind == "bursts":
        out = SynthSpec(kind, tuple(float(f) for f in args[0].split(",")), float(args[1]))
    elif kind in ("sine", "clicks"):
        out = SynthSpec(kind, (float(args[0]),))
    else:
        out = SynthSpec(kind, value=float(args[0]) if args else 0.0)
    ok = all(np.isfinite(f) and f > 0 for f in out.freqs) and np.isfinite(out.value)
    return out if ok and (out.seconds > 0 or kind not in ("sweep", "bursts")) else None


def synth_signal(
    spec: str, *, sr: int, n: int, amplitude: float = 0.5, seed: int = 0
) -> np.ndarray:
    """Render the first ``n`` samples of a test signal.

    Parameters
    ----------
    spec : str
        Signal spec (see the module docstring).
    sr : int
        Sample rate (Hz).
    n : int
        Samples to render.
    amplitude : float
        Peak amplitude (not used by ``dc`` and ``nan``).
    seed : int
        Seed of ``noise``.

    Returns
    -------
    np.ndarray, shape (n,), float32

    Raises
    ------
    ConfigError
        Malformed spec, or a frequency at or above the Nyquist ``sr / 2``.
    """
    parsed = parse_spec(spec)
    check_nyquist(parsed, spec=spec, sr=sr)
    return render(parsed, sr=sr, start=0, n=n, amplitude=amplitude, seed=seed)


def check_nyquist(parsed: SynthSpec, *, spec: str, sr: int) -> None:
    """ConfigError if a tone of ``parsed`` is at or above ``sr / 2``."""
    if parsed.kind != "clicks" and any(f >= sr / 2 for f in parsed.freqs):
        raise ConfigError(f"signal spec {spec!r}: frequencies must be below sr/2={sr / 2:g} Hz")


def render(
    spec: SynthSpec, *, sr: int, start: int, n: int, amplitude: float, seed: int = 0
) -> np.ndarray:
    """Samples ``[start, start + n)`` of ``spec``, shape (n,), float32 (no validation)."""
    idx = np.arange(start, start + n, dtype=np.int64)
    if spec.kind == "sine":
        y = _sin(spec.freqs[0], idx, sr)
    elif spec.kind == "sweep":
        y = _sweep(spec, idx, sr)
    elif spec.kind == "noise":
        y = _noise(idx, seed)
    elif spec.kind == "clicks":
        y = _clicks(spec.freqs[0], idx, sr)
    elif spec.kind == "bursts":
        y = _bursts(spec, idx, sr)
    else:
        level = {"silence": 0.0, "dc": spec.value, "nan": np.nan}[spec.kind]
        return np.full(n, level, dtype=np.float32)
    return (amplitude * y).astype(np.float32)


def _sin(freq: float, idx: np.ndarray, sr: int) -> np.ndarray:
    return np.sin(2 * np.pi * np.mod(idx * (freq / sr), 1.0))


def _sweep(spec: SynthSpec, idx: np.ndarray, sr: int) -> np.ndarray:
    (f0, f1), period = spec.freqs, spec.seconds
    t = np.mod(idx, round(period * sr)) / sr
    if f0 == f1:
        return np.sin(2 * np.pi * f0 * t)
    rate = np.log(f1 / f0) / period
    return np.sin(2 * np.pi * f0 / rate * np.expm1(rate * t))


def _noise(idx: np.ndarray, seed: int) -> np.ndarray:
    if len(idx) == 0:
        return np.zeros(0)
    first, last = idx[0] // _NOISE_PAGE, idx[-1] // _NOISE_PAGE
    pages = [
        np.random.default_rng([seed, int(p)]).uniform(-1.0, 1.0, _NOISE_PAGE)
        for p in range(first, last + 1)
    ]
    return np.concatenate(pages)[idx - first * _NOISE_PAGE]


def _clicks(rate: float, idx: np.ndarray, sr: int) -> np.ndarray:
    count = np.floor(idx * rate / sr)
    before = np.floor((idx - 1) * rate / sr)
    return (count > before).astype(np.float64)


def _bursts(spec: SynthSpec, idx: np.ndarray, sr: int) -> np.ndarray:
    length = max(1, round(spec.seconds * sr))
    seg, pos = np.divmod(idx, length)
    freqs = np.asarray(spec.freqs)[(seg // 2) % len(spec.freqs)]
    fade = max(1, min(round(_FADE_S * sr), length // 4))
    ramp = np.minimum(np.minimum(pos, length - 1 - pos) / fade, 1.0)
    env = (0.5 - 0.5 * np.cos(np.pi * ramp)) * (seg % 2 == 0)
    return env * np.sin(2 * np.pi * np.mod(pos * freqs / sr, 1.0))


class SynthSource(ThreadedSource):
    """Streams :func:`synth_signal` block by block (same samples, continuous phase).

    Every selected channel carries the same signal. ``cfg.rate`` defaults to
    :data:`DEFAULT_SR`; ``cfg.seconds`` bounds the length (None = endless), ``cfg.loop``
    restarts it. Stats: see :class:`~rtsim.audio.threaded.ThreadedSource`.
    """

    def __init__(self, cfg: SourceConfig) -> None:
        super().__init__(realtime=cfg.realtime)
        self.cfg = cfg
        self.name = f"synth:{cfg.signal}"
        self.sr = cfg.rate or DEFAULT_SR
        self.channels = len(cfg.channels)
        self._spec: SynthSpec | None = None
        self._pos = 0
        self._total = None if cfg.seconds is None else max(1, round(cfg.seconds * self.sr))
        self._buf = np.zeros((cfg.block, self.channels), dtype=np.float32)

    def open(self) -> SynthSource:
        """Parse and check the spec (ConfigError naming it)."""
        self._spec = parse_spec(self.cfg.signal)
        check_nyquist(self._spec, spec=self.cfg.signal, sr=self.sr)
        return self

    def next_block(self) -> np.ndarray | None:
        """Next ``cfg.block`` samples (fewer at the end), every channel the same."""
        n = self.cfg.block
        if self._total is not None:
            if self._pos >= self._total and self.cfg.loop:
                self._pos = 0
            n = min(n, self._total - self._pos)
            if n <= 0:
                return None
        y = render(self._spec, sr=self.sr, start=self._pos, n=n, amplitude=self.cfg.amplitude)
        self._pos += n
        self._buf[:n] = y[:, None]
        return self._buf[:n]
