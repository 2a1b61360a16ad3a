"""Streaming constant-Q front end (nnAudio's CQT1992v2 kernels, FFT × sparse kernel)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.fft
import torch

from rtsim.features.frontend import FilterProperties, FrontEnd
from rtsim.features.kernels import CQTKernel, cqt_kernel, log_compress
from rtsim.features.spec import CQTSpec

__all__ = ["CQT"]


class CQT(FrontEnd):
    """Constant-Q magnitudes, log-compressed, one frame per ``hop_length`` samples.

    A frame costs one FFT per block of bins (each only as long as that block's kernels)
    and one sparse product: ~0.2 ms on one CPU core with the timbre defaults, against a
    dense product over nnAudio's 32768-sample kernel matrix. In ``"aligned"`` mode a frame
    equals nnAudio's ``CQT1992v2(center=False)`` frame at the same index; in
    ``"low_latency"`` mode each kernel ends at the newest sample (see :class:`CQTSpec`).

    Parameters
    ----------
    spec : CQTSpec
    """

    def __init__(self, spec: CQTSpec | None = None) -> None:
        spec = spec or CQTSpec()
        kernel = cqt_kernel(spec)
        super().__init__(
            spec,
            FilterProperties(
                sr=spec.sr,
                hop_length=spec.hop_length,
                n_bins=spec.n_bins,
                window_length=kernel.window_length,
                offset=kernel.offset,
                bin_delay=kernel.bin_delay,
                frequencies=kernel.frequencies,
            ),
        )
        self.kernel: CQTKernel = kernel
        m = kernel.matrix
        self.register_buffer("crow", torch.from_numpy(m.indptr.astype(np.int64)))
        self.register_buffer("col", torch.from_numpy(m.indices.astype(np.int64)))
        self.register_buffer("values", torch.from_numpy(m.data))
        self._sparse: dict[torch.device, torch.Tensor] = {}

    def _frames_cpu(self, windows: np.ndarray) -> np.ndarray:
        spectra = np.empty((windows.shape[0], self.kernel.matrix.shape[1]), np.float32)
        for b in self.kernel.blocks:
            spec = scipy.fft.rfft(windows[:, b.lo : b.hi], n=b.n_fft, axis=-1)
            spectra[:, b.col : b.col + b.n_freq] = spec.real
            spectra[:, b.col + b.n_freq : b.col + 2 * b.n_freq] = spec.imag
        parts = (self.kernel.matrix @ spectra.T).T
        k = self.n_bins
        return log_compress(np.hypot(parts[:, :k], parts[:, k:]), self.spec.log_gain)

    def _frames_torch(self, windows: torch.Tensor) -> torch.Tensor:
        spectra = []
        for b in self.kernel.blocks:
            spec = torch.fft.rfft(windows[:, b.lo : b.hi], n=b.n_fft, dim=-1)
            spectra += [spec.real, spec.imag]
        parts = (self._matrix() @ torch.cat(spectra, dim=1).T).T
        k = self.n_bins
        return log_compress(torch.hypot(parts[:, :k], parts[:, k:]), self.spec.log_gain)

    def _matrix(self) -> torch.Tensor:
        """The kernel on the current device (cached): sparse CSR on the CPU, dense on CUDA.

        On a GPU the dense product (41 MB with the timbre defaults, read in ~15 µs) beats
        cuSPARSE at batch 1 and, unlike it, can be captured in a CUDA graph.
        """
        dev = self.values.device
        if dev not in self._sparse and dev.type == "cuda":
            self._sparse[dev] = torch.from_numpy(self.kernel.matrix.toarray()).to(dev)
        if dev not in self._sparse:
            with warnings.catch_warnings():  # "CSR support is in beta": built once, checked
                warnings.filterwarnings("ignore", message="Sparse CSR tensor support")
                self._sparse[dev] = torch.sparse_csr_tensor(
                    self.crow, self.col, self.values, size=self.kernel.matrix.shape,
                    check_invariants=True)  # once per device: a bad kernel fails here
        return self._sparse[dev]
