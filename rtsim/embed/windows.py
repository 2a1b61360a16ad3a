"""Model input windows: ``window`` consecutive frames, one window every ``hop`` frames.

Window ``i`` holds frames ``[i·hop, i·hop + window)`` and is complete when frame
``i·hop + window - 1`` arrives. :func:`frame_windows` cuts a whole frame sequence (used
to index a library and to train); :class:`WindowStream` does the same as frames arrive,
in a preallocated history, so that live queries see exactly the windows the library saw.
The history is a numpy array, or a torch tensor on a device (frames computed on a GPU
then stay there until the model has read them).
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

    history: np.ndarray | torch.Tensor
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

    def init_state(self, device: str | torch.device | None = None) -> WindowState:
        """Fresh state (no frames yet): a numpy history, or a tensor on ``device``."""
        shape = (2 * self.window, self.n_bins)
        if device is None:
            return WindowState(history=np.zeros(shape, np.float32))
        return WindowState(history=torch.zeros(shape, device=device))

    def stream(self, frames, state: WindowState, *, copy: bool = True):
        """Windows completed by new frames.

        Parameters
        ----------
        frames : array, shape (n_new, n_bins)
            Numpy, or a tensor for a tensor history (numpy is moved to its device).
        state : WindowState
        copy : bool
            False: when the frames complete exactly one window (the live case), return it
            as a view of the history, valid until the next call (the engine's hop reads it
            at once, and a device hop copies it into its graph's input anyway).

        Returns
        -------
        windows : array, shape (n_windows, window, n_bins)
            Of the history's kind; copies (safe to keep) unless ``copy=False``. Usually
            0 or 1 per hop.
        state : WindowState
        """
        w, h, hist = self.window, self.hop, state.history
        on_device = isinstance(hist, torch.Tensor)
        if on_device:
            frames = torch.as_tensor(frames, dtype=torch.float32, device=hist.device)
        else:
            frames = np.asarray(frames, np.float32)
        out = []
        last = len(frames) - 1
        for i, frame in enumerate(frames):
            # each frame is written twice (rows slot and slot + w, one strided write), so
            # the last `w` frames are always contiguous
            slot = state.n_frames % w
            hist[slot : slot + w + 1 : w] = frame
            state.n_frames += 1
            if state.n_frames == state.next_window * h + w:
                start = state.n_frames % w
                window = hist[start : start + w]
                # the stack below copies; a view is safe when no later frame overwrites it
                out.append(window if i == last else
                           (window.clone() if on_device else window.copy()))
                state.next_window += 1
        if len(out) == 1 and not copy:
            return out[0][None], state
        if on_device:
            return (torch.stack(out) if out else hist.new_zeros((0, w, self.n_bins))), state
        return (np.stack(out) if out else np.zeros((0, w, self.n_bins), np.float32)), state
