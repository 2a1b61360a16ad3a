"""Streaming mel front end (nnAudio's STFT window and mel filters)."""

from __future__ import annotations

import numpy as np
import scipy.fft
import torch

from rtsim.features.frontend import FilterProperties, FrontEnd
from rtsim.features.kernels import log_compress, mel_kernel
from rtsim.features.spec import MelSpec

__all__ = ["Mel"]


class Mel(FrontEnd):
    """Mel spectrogram frames, ``log_base(1 + gain·S)``, non-centred.

    A frame equals nnAudio's ``MelSpectrogram(center=False)`` frame at the same index
    (before compression). One rfft of ``n_fft`` samples and a dense product per frame.

    Parameters
    ----------
    spec : MelSpec
    """

    def __init__(self, spec: MelSpec | None = None) -> None:
        spec = spec or MelSpec()
        kern = mel_kernel(spec)
        super().__init__(
            spec,
            FilterProperties(
                sr=spec.sr,
                hop_length=spec.hop_length,
                n_bins=spec.n_mels,
                window_length=spec.n_fft,
                offset=0,
                bin_delay=np.full(spec.n_mels, spec.n_fft / 2.0),
                frequencies=kern.frequencies,
            ),
        )
        self.register_buffer("window", torch.from_numpy(kern.window))
        self.register_buffer("basis", torch.from_numpy(kern.basis))
        self._window_np = kern.window
        self._basis_t_np = np.ascontiguousarray(kern.basis.T)

    def _frames_cpu(self, windows: np.ndarray) -> np.ndarray:
        spec = scipy.fft.rfft(windows * self._window_np, axis=-1)
        power = _power(spec.real, spec.imag, self.spec.power)
        return log_compress(power @ self._basis_t_np, self.spec.log_gain, self.spec.log_base)

    def _frames_torch(self, windows: torch.Tensor) -> torch.Tensor:
        spec = torch.fft.rfft(windows * self.window, dim=-1)
        power = _power(spec.real, spec.imag, self.spec.power)
        return log_compress(power @ self.basis.T, self.spec.log_gain, self.spec.log_base)


def _power(re, im, power: float):
    """``|X| ** power`` without a square root when ``power == 2``."""
    sq = re * re + im * im
    return sq if power == 2.0 else sq ** (power / 2.0)
