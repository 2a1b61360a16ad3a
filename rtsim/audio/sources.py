"""One interface for every audio source: synth, file, live device.

A source is configured by a frozen :class:`SourceConfig`, validated and opened by
:func:`rtsim.audio.open.open_source`, then started into a
:class:`~rtsim.audio.ring.RingBuffer` whose ``sr`` and ``channels`` match the source's.
``stop()`` is idempotent and quick.

Example
-------
>>> from rtsim.audio.open import open_source
>>> from rtsim.audio.ring import RingBuffer
>>> with open_source(SourceConfig(kind="synth", signal="sine:440", rate=16000)) as src:
...     ring = RingBuffer(16000, src.channels, sr=src.sr)
...     src.start(ring)
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rtsim.errors import ConfigError

if TYPE_CHECKING:  # numba-compiled kernels: loaded by whoever makes a ring
    from rtsim.audio.ring import RingBuffer

__all__ = ["KINDS", "AudioSource", "SourceConfig", "validate_config"]

KINDS = ("synth", "file", "live")


@dataclass(frozen=True)
class SourceConfig:
    """Where audio comes from and how it is delivered.

    Attributes
    ----------
    kind : {"synth", "file", "live"}
    device : str or int or None
        live: device index, or case-insensitive substring of its name; None = default.
    channels : tuple of int
        Channel indices to keep (0-based), in order; ``len(channels)`` reach the ring.
    rate : int or None
        Sample rate (Hz). live: None = the device default; file: None = the file's rate,
        otherwise the file is resampled; synth: None = 48000.
    block : int
        Frames per block (``frames_per_buffer`` for live).
    path : str or None
        file: the audio file (wav, flac, ogg, ... whatever libsndfile reads).
    realtime : bool
        file/synth: pace blocks at real time; False = as fast as the reader allows,
        losing nothing.
    loop : bool
        file/synth: start again at the end instead of finishing.
    signal : str
        synth: a spec such as ``"sine:440"`` (see :func:`rtsim.audio.synth.synth_signal`).
    seconds : float or None
        synth: length (s); None = endless.
    amplitude : float
        synth: peak amplitude.
    """

    kind: str = "synth"
    device: str | int | None = None
    channels: tuple[int, ...] = (0,)
    rate: int | None = None
    block: int = 256
    path: str | None = None
    realtime: bool = True
    loop: bool = False
    signal: str = "sine:440"
    seconds: float | None = None
    amplitude: float = 0.5


class AudioSource(abc.ABC):
    """A producer of float32 frames into a ring buffer.

    Attributes
    ----------
    name : str
        Human-readable origin (device name, file path, synth spec).
    sr : int
        Rate (Hz) the frames arrive at; known after :meth:`open`.
    channels : int
        Channels per frame after channel selection.
    """

    name: str
    sr: int
    channels: int
    #: Whether the engine's watchdog should reopen this source when it stops delivering.
    restartable: bool = False

    @abc.abstractmethod
    def open(self) -> AudioSource:
        """Validate and acquire the source (idempotent); return ``self``.

        Raises
        ------
        AudioDeviceError, AudioFileError
            Naming the device, file or value that is wrong.
        """

    @abc.abstractmethod
    def start(self, ring: RingBuffer) -> None:
        """Begin writing frames into ``ring`` (``ring.sr == sr``, ``ring.channels == channels``)."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop and release everything (idempotent; returns within about 0.5 s)."""

    @property
    @abc.abstractmethod
    def finished(self) -> bool:
        """True once a non-looping file or synth signal has delivered its last frame."""

    @abc.abstractmethod
    def stats(self) -> dict[str, int]:
        """Counters: ``blocks``, ``frames``, ``xruns`` and source-specific ones."""

    def restart(self, ring: RingBuffer) -> None:
        """Close everything and open again into ``ring`` (device loss recovery).

        For a live device this terminates and re-initialises PortAudio, so the device list
        is read afresh and a replugged interface is found again by its name.

        Raises
        ------
        AudioDeviceError, AudioFileError
            If the source cannot be opened (yet); the caller retries with backoff.
        """
        self.stop()
        self.open()
        self.start(ring)

    def check_ring(self, ring: RingBuffer) -> None:
        """Raise ConfigError unless ``ring`` matches this source's rate and channels."""
        if ring.channels != self.channels or ring.sr != self.sr:
            raise ConfigError(
                f"ring (sr={ring.sr:g}, channels={ring.channels}) does not match source "
                f"{self.name!r} (sr={self.sr}, channels={self.channels})"
            )

    def __enter__(self) -> AudioSource:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def validate_config(cfg: SourceConfig) -> None:
    """Raise ConfigError naming the first invalid field of ``cfg``."""
    if cfg.kind not in KINDS:
        raise ConfigError(f"source kind={cfg.kind!r} is unknown (accepted: {', '.join(KINDS)})")
    if not cfg.channels or any(not isinstance(c, int) or c < 0 for c in cfg.channels):
        raise ConfigError(f"channels={cfg.channels!r} must be a non-empty tuple of indices ≥ 0")
    if cfg.rate is not None and (not isinstance(cfg.rate, int) or cfg.rate < 1):
        raise ConfigError(f"rate={cfg.rate!r} must be a positive integer (Hz) or None")
    if not isinstance(cfg.block, int) or cfg.block < 1:
        raise ConfigError(f"block={cfg.block!r} must be a positive integer (frames)")
    if cfg.kind == "file" and not cfg.path:
        raise ConfigError("kind='file' needs path= (an audio file)")
    if cfg.seconds is not None and not cfg.seconds > 0:
        raise ConfigError(f"seconds={cfg.seconds!r} must be > 0 or None")
    if not math.isfinite(cfg.amplitude):
        raise ConfigError(f"amplitude={cfg.amplitude!r} must be finite")
