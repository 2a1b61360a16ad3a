"""Audio files through libsndfile (soundfile): whole-file loading and a paced source.

Every format libsndfile reads works (wav, flac, ogg/vorbis, aiff, ...). Problems are
reported as :class:`~rtsim.errors.AudioFileError` naming the path and the reason; NaN and
±Inf samples are replaced by 0, counted, and logged once per load (or per file source as
the ``nonfinite`` counter of ``stats()``).
"""

from __future__ import annotations

import logging
import os
import re

import numpy as np
import soundfile as sf

from rtsim.audio.resample import Resampler, resample
from rtsim.audio.sources import SourceConfig
from rtsim.audio.threaded import ThreadedSource
from rtsim.errors import AudioFileError, TruncatedAudioError

__all__ = ["FileSource", "LoadedAudio", "load_audio", "open_soundfile", "truncation"]

log = logging.getLogger(__name__)


class LoadedAudio(tuple):
    """``(y, sr)`` as returned by :func:`load_audio`, plus ``nonfinite``.

    Unpacks like a 2-tuple; ``nonfinite`` is the number of NaN/Inf samples replaced by 0.
    """

    def __new__(cls, y: np.ndarray, sr: int, *, nonfinite: int = 0) -> LoadedAudio:
        """Build ``(y, sr)`` carrying ``nonfinite``."""
        self = super().__new__(cls, (y, sr))
        self.nonfinite = nonfinite
        return self

    @property
    def y(self) -> np.ndarray:
        """The samples."""
        return self[0]

    @property
    def sr(self) -> int:
        """The sample rate (Hz)."""
        return self[1]


def open_soundfile(path: str | os.PathLike) -> sf.SoundFile:
    """Open ``path`` for reading, or raise AudioFileError naming it and the reason."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise AudioFileError(f"audio file {p!r}: no such file")
    if not os.path.isfile(p):
        raise AudioFileError(f"audio file {p!r}: not a regular file")
    if os.path.getsize(p) == 0:
        raise AudioFileError(f"audio file {p!r}: empty file (0 bytes)")
    try:
        f = sf.SoundFile(p)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioFileError(f"audio file {p!r}: unreadable or not audio ({e})") from e
    if f.frames == 0:
        f.close()
        raise AudioFileError(f"audio file {p!r}: contains no samples")
    return f


# libsndfile's parse log of a WAV/W64/AIFF whose data chunk runs past the end of the file:
# "data : 128000 (should be 42637)". Sizes 0 and 0xFFFFFFFF mean "unknown" (a stream).
_SHORT_CHUNK = re.compile(r"^\s*(data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)


def truncation(f: sf.SoundFile) -> str | None:
    """Why ``f`` looks cut off (its header declares more data than it holds), or None."""
    m = _SHORT_CHUNK.search(f.extra_info or "")
    if m is None or int(m[2]) in (0, 0xFFFFFFFF) or int(m[3]) >= int(m[2]):
        return None
    declared, held = int(m[2]), int(m[3])
    return (f"truncated: its header declares {declared} bytes of audio, the file holds "
            f"{held} ({100 * held / declared:.0f} %)")


def zero_nonfinite(x: np.ndarray) -> int:
    """Replace NaN and ±Inf in ``x`` by 0 in place; return how many there were."""
    bad = ~np.isfinite(x)
    count = int(np.count_nonzero(bad))
    if count:
        x[bad] = 0.0
    return count


def load_audio(
    path: str | os.PathLike, *, sr: int | None = None, mono: bool = True
) -> tuple[np.ndarray, int]:
    """Read a whole audio file as float32.

    Parameters
    ----------
    path : str or os.PathLike
    sr : int or None
        Target rate (Hz); None keeps the file's. Resampling is the delay-compensated
        offline :func:`rtsim.audio.resample.resample`.
    mono : bool
        Average the channels.

    Returns
    -------
    LoadedAudio
        ``(y, sr)``: ``y`` of shape (n,) if ``mono`` else (channels, n) (librosa's
        layout), float32; ``sr`` in Hz. Its ``nonfinite`` attribute counts the NaN/Inf
        samples that were replaced by 0 (a warning names the file and the count).

    Raises
    ------
    AudioFileError
        Missing, empty, unreadable, corrupt, not audio, or without samples.
    TruncatedAudioError
        The file holds less data than its header declares, or decodes to fewer samples.
    """
    with open_soundfile(path) as f:
        cut = truncation(f)
        if cut:
            raise TruncatedAudioError(f"audio file {os.fspath(path)!r}: {cut}")
        try:
            data = f.read(dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioFileError(f"audio file {os.fspath(path)!r}: read failed ({e})") from e
        sr_file, declared = f.samplerate, f.frames
    if len(data) == 0:
        raise AudioFileError(f"audio file {os.fspath(path)!r}: contains no samples")
    if len(data) < declared:
        raise TruncatedAudioError(f"audio file {os.fspath(path)!r}: truncated: decodes to "
                                  f"{len(data)} of the {declared} samples it declares")
    bad = zero_nonfinite(data)
    if bad:
        log.warning("audio file %r: %d NaN/Inf samples replaced by 0", os.fspath(path), bad)
    y = data.mean(axis=1, dtype=np.float32) if mono else np.ascontiguousarray(data.T)
    if sr is not None and sr != sr_file:
        chans = [resample(c, sr_in=sr_file, sr_out=sr) for c in np.atleast_2d(y)]
        y = chans[0] if mono else np.stack(chans)
    return LoadedAudio(y, int(sr or sr_file), nonfinite=bad)


class FileSource(ThreadedSource):
    """Streams a file in blocks of ``cfg.block`` frames into a ring.

    ``cfg.channels`` selects file channels; ``cfg.rate`` (if not the file's) resamples
    each channel with a streaming :class:`~rtsim.audio.resample.Resampler` (its
    ``delay_s`` of latency; the last ``delay_out`` samples are not flushed).
    ``cfg.realtime`` paces at real time, else as fast as the reader allows, losing
    nothing; ``cfg.loop`` restarts at the end. Extra stats: ``loops``, ``nonfinite``.
    """

    def __init__(self, cfg: SourceConfig) -> None:
        super().__init__(realtime=cfg.realtime)
        self.cfg = cfg
        self.name = os.fspath(cfg.path)
        self.channels = len(cfg.channels)
        self._file: sf.SoundFile | None = None
        self._counts.update(loops=0, nonfinite=0)

    def open(self) -> FileSource:
        """Open and check the file and channel selection (AudioFileError naming them)."""
        if self._file is not None:
            return self
        f = open_soundfile(self.cfg.path)
        cut = truncation(f)
        if cut:  # still playable up to where it stops: say so, stream what there is
            log.warning("audio file %r: %s", self.name, cut)
        if max(self.cfg.channels) >= f.channels:
            f.close()
            raise AudioFileError(
                f"audio file {self.name!r}: channel {max(self.cfg.channels)} requested, "
                f"file has {f.channels} (accepted: 0..{f.channels - 1})"
            )
        self._file = f
        self._cols = list(self.cfg.channels)
        self._in = np.zeros((self.cfg.block, f.channels), dtype=np.float32)
        self.sr = self.cfg.rate or f.samplerate
        self._rs = Resampler(sr_in=f.samplerate, sr_out=self.sr)
        self._states = [self._rs.init_state() for _ in self._cols]
        return self

    def release(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def next_block(self) -> np.ndarray | None:
        """Next block, shape (n, channels) float32 at :attr:`sr`; None at the end."""
        if self._file is None:
            return None
        got = self._file.read(self.cfg.block, dtype="float32", always_2d=True, out=self._in)
        if len(got) == 0 and self.cfg.loop:
            self._file.seek(0)
            self._counts["loops"] += 1
            got = self._file.read(self.cfg.block, dtype="float32", always_2d=True, out=self._in)
        if len(got) == 0:
            return None
        block = got[:, self._cols]
        self._counts["nonfinite"] += zero_nonfinite(block)
        if self._rs.passthrough:
            return block
        outs = []
        for c in range(self.channels):
            y, self._states[c] = self._rs.stream(block[:, c], self._states[c])
            outs.append(y)
        return np.stack(outs, axis=1)
