"""Model input windows: ``window`` consecutive frames, one window every ``hop`` frames.

Window ``i`` holds frames ``[i·hop, i·hop + window)`` and is complete when frame
``i·hop + window - 1`` arrives. :func:`frame_windows` cuts a whole frame sequence (used
to index a library and to train); :class:`WindowStream` does the same as frames arrive,
in a preallocated history, so that live queries see exactly the windows the library saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["frame_windows", "WindowStream", "WindowState"]


def frame_windows(frames: np.ndarray | torch.Tensor, *, window: int, hop: int):
    """All complete windows of a frame sequence, as a strided view (no copy).

    Parameters
    ----------
    frames : array, shape (n_frames, n_bins)
    window, hop : int

    Returns
    -------
    array, shape (n_windows, window, n_bins); empty when ``n_frames < window``.
    """
    n_frames, n_bins = frames.shape
    n = 0 if n_frames < window else (n_frames - window) // hop + 1
    if isinstance(frames, torch.Tensor):
        if n == 0:
            return frames.new_zeros((0, window, n_bins))
        return frames.unfold(0, window, hop)[:n].transpose(1, 2)
    if n == 0:
        return np.zeros((0, window, n_bins), frames.dtype)
    view = np.lib.stride_tricks.sliding_window_view(frames, window, axis=0)[::hop][:n]
    return view.transpose(0, 2, 1)


@dataclass
class WindowState:
    """Streaming state: the last ``window`` frames (circular) and counters."""

    history: np.ndarray
    n_frames: int = 0
    next_window: int = 0


class WindowStream:
    """Assemble model windows from frames as they arrive.

    Parameters
    ----------
    window, hop, n_bins : int
    """

    def __init__(self, *, window: int, hop: int, n_bins: int) -> None:
        self.window, self.hop, self.n_bins = window, hop, n_bins

    def init_state(self) -> WindowState:
        """Fresh state (no frames yet)."""
        return WindowState(history=np.zeros((2 * self.window, self.n_bins), np.float32))

    def stream(self, frames: np.ndarray, state: WindowState) -> tuple[np.ndarray, WindowState]:
        """Windows completed by new frames.

        Parameters
        ----------
        frames : np.ndarray, shape (n_new, n_bins)
        state : WindowState

        Returns
        -------
        windows : np.ndarray, shape (n_windows, window, n_bins)
            Copies (safe to keep); usually 0 or 1 per hop.
        state : WindowState
        """
        w, h = self.window, self.hop
        out = []
        for frame in np.asarray(frames, np.float32):
            # each frame is written twice, so the last `w` frames are always contiguous
            slot = state.n_frames % w
            state.history[slot] = frame
            state.history[slot + w] = frame
            state.n_frames += 1
            if state.n_frames == state.next_window * h + w:
                start = state.n_frames % w
                out.append(state.history[start : start + w].copy())
                state.next_window += 1
        if not out:
            return np.zeros((0, w, self.n_bins), np.float32), state
        return np.stack(out), state
