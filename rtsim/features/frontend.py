"""The streaming front-end contract shared by the CQT and the mel front ends.

A front end turns mono audio at its own ``sr`` into frames of ``n_bins`` features. Frame
``t`` reads the samples ``[offset + t·hop, offset + t·hop + window_length)`` of the
stream: :meth:`FrontEnd.offline` computes every complete frame of a whole signal,
:meth:`FrontEnd.stream` computes only the frames a new chunk completes, holding the last
``window_length`` samples in an explicit :class:`StreamState`. Both call the same
per-frame function (:meth:`FrontEnd.frames`), so streamed output equals offline output
over any chunking, and training and live use see identical features.

Receptive field and per-bin delay are data (:class:`FilterProperties`), so the engine
and ``rtsim bench`` can add up latency instead of guessing.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from rtsim.errors import FrontEndError

__all__ = ["FilterProperties", "StreamState", "FrontEnd"]


@dataclass(frozen=True)
class FilterProperties:
    """Where a front end's frames sit in time.

    Attributes
    ----------
    sr, hop_length, n_bins : int
    window_length : int
        Receptive field of one frame (samples).
    offset : int
        Samples of the stream before the first frame's window.
    bin_delay : np.ndarray, shape (n_bins,)
        Samples from the centre of each bin's kernel to the newest sample of its frame:
        the delay a bin adds on top of the hop. Constant across bins in aligned mode.
    frequencies : np.ndarray, shape (n_bins,)
        Centre frequency of each bin (Hz).
    """

    sr: int
    hop_length: int
    n_bins: int
    window_length: int
    offset: int
    bin_delay: np.ndarray
    frequencies: np.ndarray

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.sr / self.hop_length

    @property
    def receptive_field_s(self) -> float:
        """Receptive field of one frame in seconds."""
        return self.window_length / self.sr

    @property
    def bin_delay_s(self) -> np.ndarray:
        """Per-bin delay in seconds."""
        return self.bin_delay / self.sr

    def frame_end(self, t: int) -> int:
        """Stream index one past the newest sample of frame ``t``."""
        return self.offset + t * self.hop_length + self.window_length

    def n_frames(self, n_samples: int) -> int:
        """Number of complete frames in a signal of ``n_samples`` samples."""
        usable = n_samples - self.offset - self.window_length
        return 0 if usable < 0 else usable // self.hop_length + 1


@dataclass
class StreamState:
    """Streaming state of one front end (mutated in place and returned by ``stream``).

    Attributes
    ----------
    buf : np.ndarray, shape (capacity,), float32
        Recent samples; ``buf[:fill]`` holds stream indices ``start .. start + fill``.
    start, fill : int
    next_frame : int
        Index of the next frame to emit.
    """

    buf: np.ndarray
    start: int = 0
    fill: int = 0
    next_frame: int = 0

    @property
    def n_seen(self) -> int:
        """Samples consumed since the stream began."""
        return self.start + self.fill


class FrontEnd(torch.nn.Module):
    """Base class: streaming and offline framing around a per-frame function.

    Subclasses implement :meth:`_frames_cpu` (numpy/scipy, the fast path on the CPU) and
    :meth:`_frames_torch` (any torch device); both compute the same function. On CUDA,
    :meth:`use_graphs` replays the one-frame case from a CUDA graph.
    """

    def __init__(self, spec, properties: FilterProperties) -> None:
        super().__init__()
        self.spec = spec
        self.properties = properties
        self.register_buffer("_device_probe", torch.zeros(0), persistent=False)
        self._graph = None  # a GraphedCall of one frame (use_graphs)
        self._staging: torch.Tensor | None = None
        self._staged: torch.cuda.Event | None = None
        self._empty: tuple | None = None  # (device, empty frames): see _no_frames

    # -- the per-frame function ------------------------------------------------------
    @property
    def device(self) -> torch.device:
        """Device the front end computes on."""
        return self._device_probe.device

    @property
    def n_bins(self) -> int:
        """Features per frame."""
        return self.properties.n_bins

    def frames(self, windows: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Features of a batch of windows.

        Parameters
        ----------
        windows : array, shape (n, window_length), float32
            Audio at ``spec.sr``; a window's last sample is its frame's newest.

        Returns
        -------
        torch.Tensor, shape (n, n_bins), float32, on :attr:`device`
        """
        if self.device.type == "cpu":
            w = windows.numpy() if isinstance(windows, torch.Tensor) else windows
            return torch.from_numpy(self._frame_host(w))
        if self._graph is not None and len(windows) == 1 and isinstance(windows, np.ndarray):
            return self._graphed_frame(windows).clone()
        if isinstance(windows, np.ndarray) and not windows.flags.writeable:
            windows = np.ascontiguousarray(windows)  # strided views: torch wants writable
        w = torch.as_tensor(windows, dtype=torch.float32).to(self.device, non_blocking=True)
        return self._frames_torch(w)

    @property
    def graphed(self) -> bool:
        """True when one-frame calls replay a CUDA graph (:meth:`use_graphs`)."""
        return self._graph is not None

    def use_graphs(self) -> bool:
        """Replay one-frame calls from a CUDA graph; True when captured.

        The frame's samples then go to the device once, from pinned memory, and the
        per-frame work (FFTs, kernel product, compression) is one replay. Batches and CPU
        front ends are unaffected; a capture that fails warns and leaves calls eager.
        """
        from rtsim.features.graphs import GraphedCall

        if self.device.type != "cuda":
            return False
        n = self.properties.window_length
        with torch.inference_mode():
            graph = GraphedCall(self._frames_torch, torch.zeros((1, n), device=self.device),
                                name=f"{self.spec.kind} front end")
        if not graph.captured:
            return False
        self._graph, self._staged = graph, torch.cuda.Event()
        self._staging = torch.zeros((1, n), dtype=torch.float32).pin_memory()
        self._staged.record()
        return True

    def _graphed_frame(self, window: np.ndarray) -> torch.Tensor:
        """The replay's static output, overwritten by the next frame (copy to keep it)."""
        self._staged.synchronize()  # the previous frame's upload has left the staging buffer
        self._staging.numpy()[:] = window
        out = self._graph(self._staging)
        self._staged.record()
        return out

    @abstractmethod
    def _frames_cpu(self, windows: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _frames_torch(self, windows: torch.Tensor) -> torch.Tensor: ...

    # -- offline ---------------------------------------------------------------------
    @property
    def primed_length(self) -> int:
        """Zeros before a primed stream: its frame ``t`` then ends at ``(t + 1)·hop``."""
        p = self.properties
        return max(0, p.offset + p.window_length - p.hop_length)

    def silence_frame(self) -> np.ndarray:
        """The frame of silence, shape (n_bins,), float32."""
        zeros = np.zeros((1, self.properties.window_length), np.float32)
        return self.frames(zeros)[0].cpu().numpy()

    def offline(self, x: np.ndarray, *, batch: int = 256, primed: bool = False) -> torch.Tensor:
        """All complete frames of a whole signal (non-centred, no padding).

        Parameters
        ----------
        x : np.ndarray, shape (n_samples,), float32
        batch : int
            Frames computed per call (bounds memory).
        primed : bool
            Take the signal as preceded by :attr:`primed_length` zeros, as the live engine
            does, so that frame ``t`` has its newest sample at ``(t + 1)·hop - 1``.

        Returns
        -------
        torch.Tensor, shape (n_frames, n_bins)
        """
        x = _as_mono(x)
        if primed:
            x = np.concatenate([np.zeros(self.primed_length, np.float32), x])
        p = self.properties
        n = p.n_frames(len(x))
        if n == 0:
            return torch.zeros((0, p.n_bins), dtype=torch.float32, device=self.device)
        view = np.lib.stride_tricks.sliding_window_view(x[p.offset :], p.window_length)
        view = view[:: p.hop_length][:n]
        return torch.cat([self.frames(view[i : i + batch]) for i in range(0, n, batch)])

    # -- streaming -------------------------------------------------------------------
    def init_state(self) -> StreamState:
        """Fresh streaming state (the stream starts at sample 0)."""
        cap = 2 * self.properties.window_length + self.properties.hop_length
        return StreamState(buf=np.zeros(cap, np.float32))

    def stream(self, x: np.ndarray,
               state: StreamState) -> tuple[np.ndarray | torch.Tensor, StreamState]:
        """Frames completed by a new chunk of audio.

        Frames stay where they are computed: on the CPU they are numpy from the
        numpy/scipy path (no torch tensor is made, live input stays numpy until the
        model's input); on a GPU they are tensors on it, for a device-resident hop.

        Parameters
        ----------
        x : np.ndarray, shape (n,), float32
            The next samples of the stream (any n, including 0).
        state : StreamState
            From :meth:`init_state` or the previous call; updated in place.

        Returns
        -------
        frames : np.ndarray (CPU) or torch.Tensor (other devices), shape (n_new, n_bins)
            With CUDA graphs (:meth:`use_graphs`) a single frame is the replay's own
            output, valid until the next call: read or copy it before.
        state : StreamState
        """
        x = _as_mono(x)
        p = self.properties
        on_host = self.device.type == "cpu"
        frame = self._frame_host if on_host else (
            self._graphed_frame if self._graph is not None else self.frames)
        out: list = []
        static = self._graph is not None  # a replay's output is overwritten by the next
        i = 0
        while i < len(x):
            _compact(state, first_needed=p.offset + state.next_frame * p.hop_length)
            take = min(len(state.buf) - state.fill, len(x) - i)
            state.buf[state.fill : state.fill + take] = x[i : i + take]
            state.fill += take
            i += take
            while p.frame_end(state.next_frame) <= state.n_seen:
                lo = p.frame_end(state.next_frame) - p.window_length - state.start
                if out and static:
                    out[-1] = out[-1].clone()
                out.append(frame(state.buf[None, lo : lo + p.window_length]))
                state.next_frame += 1
        if len(out) == 1:
            return out[0], state
        if out:
            return (np.concatenate(out) if on_host else torch.cat(out)), state
        return self._no_frames(), state

    def _no_frames(self):
        """The empty result of a stream call (made once: most calls complete no frame)."""
        dev = self.device
        if self._empty is None or self._empty[0] != dev:
            n = self.properties.n_bins
            self._empty = (dev, np.zeros((0, n), np.float32) if dev.type == "cpu"
                           else torch.zeros((0, n), device=dev))
        return self._empty[1]

    def _frame_host(self, windows: np.ndarray) -> np.ndarray:
        """:meth:`_frames_cpu` of any windows (e.g. views of the stream's buffer), as numpy."""
        return self._frames_cpu(np.ascontiguousarray(windows, np.float32))


def _compact(state: StreamState, *, first_needed: int) -> None:
    """Drop buffered samples that no future frame reads."""
    drop = min(first_needed, state.n_seen) - state.start
    if drop <= 0:
        return
    keep = state.fill - drop
    state.buf[:keep] = state.buf[drop : state.fill]
    state.start += drop
    state.fill = keep


def _as_mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise FrontEndError(f"front ends take mono audio of shape (n,), got shape {x.shape}")
    return x
