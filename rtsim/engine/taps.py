"""Taps: the mono signals the engine derives from the input, and their front ends.

An :class:`InputTap` turns each block read from the ring into one mono signal (one
channel, or the mix of all), tracks its level over the last hop and detects onsets on
it. A :class:`FrontEndTap` resamples an input tap's signal to a front end's rate and
streams it through that front end, giving every new frame with its capture time.
Embedders that share a channel and a front end share one tap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rtsim.audio.resample import Resampler
from rtsim.features import FrontEnd
from rtsim.features.onset import Onset, OnsetConfig, OnsetDetector, level_db

__all__ = ["InputTap", "FrontEndTap", "Frames"]


class InputTap:
    """One mono view of the input at the device rate.

    It keeps the last ``history_s`` seconds of its signal, so that the level of a window
    is measured over the audio that window ends on (:meth:`levels_db`), not over whatever
    the engine read last: a late read brings several hops at once, and a click in the
    first of them must not be gated by the silence after it.

    Parameters
    ----------
    channel : int or None
        Index among the ring's channels; None mixes all of them.
    sr : int
        Device rate.
    level_window : int
        Samples over which a level is measured (the shortest hop served).
    onset : OnsetConfig
    history_s : float
        Seconds kept beyond ``level_window`` (longer than one read of the engine).
    """

    def __init__(self, *, channel: int | None, sr: int, level_window: int,
                 onset: OnsetConfig, history_s: float = 1.0) -> None:
        self.channel, self.sr = channel, sr
        self.level_window = max(1, int(level_window))
        self._history = np.zeros(self.level_window + max(1, int(history_s * sr)), np.float32)
        self.n_seen = 0  # samples pushed since the start
        self.detector = OnsetDetector(onset, sr=sr) if onset.enabled else None
        self.onset_state = self.detector.init_state() if self.detector else None
        self.mono = np.zeros(0, np.float32)
        self.onsets: list[Onset] = []

    def levels_db(self, index: np.ndarray) -> np.ndarray:
        """Level (dBFS) of the ``level_window`` samples ending at each sample ``index``.

        ``index`` counts samples of this tap's stream from its start (fractional indices
        are floored); samples before the start are silence. An index older than the kept
        history is measured over the oldest window kept, one not yet pushed over the
        newest.
        """
        size, w = len(self._history), self.level_window
        ends = np.floor(np.asarray(index, np.float64)).astype(np.int64) + 1
        ends = np.clip(ends, self.n_seen - size + w, self.n_seen)
        span = np.arange(-w, 0)
        return np.array([level_db(self._history[(end + span) % size]) for end in ends],
                        np.float64)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Take a block (frames, channels) from the ring; return its mono signal."""
        if self.channel is None:
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
        else:
            mono = block[:, self.channel]
        mono = np.ascontiguousarray(mono, np.float32)
        self._remember(mono)
        if self.detector is not None:
            found, self.onset_state = self.detector.stream(mono, self.onset_state)
            self.onsets += found
        self.mono = mono
        return mono

    def _remember(self, mono: np.ndarray) -> None:
        """Write ``mono`` into the circular history (sample ``i`` at ``i % size``)."""
        size = len(self._history)
        tail = mono[-size:]
        start = (self.n_seen + len(mono) - len(tail)) % size
        first = min(len(tail), size - start)
        self._history[start : start + first] = tail[:first]
        self._history[: len(tail) - first] = tail[first:]
        self.n_seen += len(mono)


@dataclass(frozen=True)
class Frames:
    """New front-end frames: ``data`` (n, n_bins) and each frame's newest-sample index.

    ``device_index`` is in samples of the input at the device rate, so that the engine
    can turn it into a capture time with the ring's clock.
    """

    data: np.ndarray | torch.Tensor  # numpy from a CPU front end, a tensor from a GPU's
    device_index: np.ndarray


class FrontEndTap:
    """Resample an input tap's signal to a front end's rate and stream the front end.

    The front end starts primed with silence (``window_length - hop_length`` zeros), so
    the first frame completes one hop after the stream starts instead of one receptive
    field later: the sound before the start is taken to be silence.

    Parameters
    ----------
    source : InputTap
    frontend : FrontEnd
    """

    def __init__(self, *, source: InputTap, frontend: FrontEnd) -> None:
        self.source = source
        self.frontend = frontend
        self.resampler = Resampler(sr_in=source.sr, sr_out=frontend.properties.sr)
        self.rs_state = self.resampler.init_state()
        self.fe_state = frontend.init_state()
        self.primed = frontend.primed_length
        self.frontend.stream(np.zeros(self.primed, np.float32), self.fe_state)

    def push(self, mono: np.ndarray) -> Frames:
        """Stream the newest mono samples; return the frames they complete."""
        x, self.rs_state = self.resampler.stream(mono, self.rs_state)
        first = self.fe_state.next_frame
        frames, self.fe_state = self.frontend.stream(x, self.fe_state)
        p = self.frontend.properties
        ends = np.array([p.frame_end(t) for t in range(first, first + len(frames))], np.float64)
        ratio = self.resampler.sr_in / p.sr
        device_index = (ends - 1 - self.primed - self.resampler.delay_out) * ratio
        return Frames(frames, device_index)
