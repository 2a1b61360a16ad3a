"""Kernel construction for the front ends, from nnAudio's own kernel definitions.

CQT: nnAudio's ``create_cqt_kernels`` gives each bin a time-domain kernel centred in one
``2**ceil(log2(max length))``-sample window (32768 samples with the timbre defaults). A
frame is the inner product of the audio with each kernel; nnAudio computes it as a dense
convolution over that whole window. Here the window is trimmed to the kernels' support,
bins are grouped into blocks, each block takes an FFT only as long as its own kernels
(the high octaves need a few hundred samples, not 20000), and each kernel becomes a short
sparse row in the frequency domain (Parseval). Magnitudes match nnAudio's ``CQT1992v2``
(``center=False``, librosa normalisation) to about ``sparsity_tol``.

Mel: nnAudio's STFT window and ``get_mel`` filter bank, applied to ``rfft`` frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.fft
import scipy.sparse

from rtsim.cache import cached_arrays
from rtsim.features.spec import CQTSpec, MelSpec, identity

KERNEL_VERSION = 1  # bump when the construction below changes

__all__ = ["FFTBlock", "CQTKernel", "MelKernel", "cqt_kernel", "mel_kernel"]


@dataclass(frozen=True)
class FFTBlock:
    """One FFT shared by a block of CQT bins.

    ``lo:hi`` is the slice of the front end's window the block reads, ``n_fft`` the
    (fast, zero-padded) FFT length, ``col`` its first column in the stacked spectrum
    vector ``[Re X_0, Im X_0, Re X_1, Im X_1, ...]`` (each part ``n_freq`` long).
    """

    lo: int
    hi: int
    n_fft: int
    col: int

    @property
    def n_freq(self) -> int:
        """Number of rfft bins."""
        return self.n_fft // 2 + 1


@dataclass(frozen=True)
class CQTKernel:
    """Block-sparse spectral CQT kernel.

    Attributes
    ----------
    blocks : tuple of FFTBlock
    matrix : scipy.sparse.csr_matrix, shape (2 * n_bins, n_cols), float32
        Rows ``0..n_bins-1`` give the real parts, ``n_bins..`` the imaginary parts.
    window_length : int
        Samples one frame reads (the receptive field).
    offset : int
        Samples of the stream before the first frame's window (frames stay on nnAudio's
        grid in aligned mode).
    bin_delay : np.ndarray, shape (n_bins,)
        Samples from each kernel's centre to the newest sample of its frame.
    frequencies, lengths : np.ndarray, shape (n_bins,)
        Centre frequency (Hz) and kernel length (samples) of each bin.
    """

    blocks: tuple[FFTBlock, ...]
    matrix: scipy.sparse.csr_matrix
    window_length: int
    offset: int
    bin_delay: np.ndarray
    frequencies: np.ndarray
    lengths: np.ndarray


@dataclass(frozen=True)
class MelKernel:
    """Window and mel filter bank. ``basis`` has shape (n_mels, n_fft // 2 + 1)."""

    window: np.ndarray
    basis: np.ndarray
    frequencies: np.ndarray


def nnaudio_cqt_kernels(spec: CQTSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NnAudio's time-domain kernels, scaled as ``CQT1992v2(normalization_type="librosa")``.

    Returns
    -------
    kernels : np.ndarray, shape (n_bins, n_window), complex128
        Frame value of bin k: ``|sum_n x[n] * conj(kernels[k, n])|``.
    lengths, frequencies : np.ndarray, shape (n_bins,)
    """
    from nnAudio.utils import create_cqt_kernels

    q = float(spec.filter_scale) / (2 ** (1 / spec.bins_per_octave) - 1)
    kern, _, lengths, freqs = create_cqt_kernels(
        q, spec.sr, spec.fmin, spec.n_bins, spec.bins_per_octave, 1, spec.window, None
    )
    lengths = lengths.numpy().astype(np.float64)
    return kern.astype(np.complex128) * np.sqrt(lengths)[:, None], lengths, np.asarray(freqs)


def cqt_kernel(spec: CQTSpec) -> CQTKernel:
    """The block-sparse spectral kernel of ``spec`` (built once, then from the cache)."""
    a = cached_arrays("kernels", _cache_key(spec), lambda: _cqt_arrays(build_cqt_kernel(spec)))
    m = scipy.sparse.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=tuple(a["shape"]))
    return CQTKernel(
        blocks=tuple(FFTBlock(*map(int, b)) for b in a["blocks"]), matrix=m,
        window_length=int(a["window_length"]), offset=int(a["offset"]),
        bin_delay=a["bin_delay"], frequencies=a["frequencies"], lengths=a["lengths"],
    )


def _cache_key(spec) -> dict:
    import nnAudio

    return {"spec": identity(spec), "impl": {k: getattr(spec, k, None) for k in
                                             ("sparsity_tol", "bins_per_block")},
            "nnAudio": getattr(nnAudio, "__version__", "?"), "version": KERNEL_VERSION}


def _cqt_arrays(k: CQTKernel) -> dict[str, np.ndarray]:
    return {"blocks": np.array([(b.lo, b.hi, b.n_fft, b.col) for b in k.blocks], np.int64),
            "data": k.matrix.data, "indices": k.matrix.indices, "indptr": k.matrix.indptr,
            "shape": np.array(k.matrix.shape), "window_length": np.array(k.window_length),
            "offset": np.array(k.offset), "bin_delay": k.bin_delay,
            "frequencies": k.frequencies, "lengths": k.lengths}


def build_cqt_kernel(spec: CQTSpec) -> CQTKernel:
    """Build the block-sparse spectral kernel of ``spec`` (aligned or low-latency mode)."""
    kern, lengths, freqs = nnaudio_cqt_kernels(spec)
    nonzero = np.abs(kern) > 0
    starts = nonzero.argmax(axis=1)
    ends = kern.shape[1] - nonzero[:, ::-1].argmax(axis=1)
    if spec.mode == "aligned":
        offset, window_length = int(starts.min()), int(ends.max() - starts.min())
        starts, ends = starts - offset, ends - offset
    else:
        offset, window_length = 0, int((ends - starts).max())
        starts, ends = window_length - (ends - starts), np.full_like(ends, window_length)
    bin_delay = window_length - (starts + ends) / 2.0
    blocks, rows, cols, vals = [], [], [], []
    col = 0
    for first in range(0, spec.n_bins, spec.bins_per_block):
        ks = np.arange(first, min(spec.n_bins, first + spec.bins_per_block))
        lo, hi = int(starts[ks].min()), int(ends[ks].max())
        block = FFTBlock(lo, hi, scipy.fft.next_fast_len(hi - lo, real=True), col)
        for k in ks:
            seg = np.zeros(block.n_fft, np.complex128)
            length = int(ends[k] - starts[k])
            seg[starts[k] - lo : ends[k] - lo] = _kernel_support(kern[k], length)
            re_row, im_row = _real_rows(seg, block.n_fft)
            for r, row in ((k, re_row), (spec.n_bins + k, im_row)):
                keep = _sparse_support(row, spec.sparsity_tol)
                rows.append(np.full(keep.size, r))
                cols.append(col + keep)
                vals.append(row[keep])
        blocks.append(block)
        col += 2 * block.n_freq
    matrix = scipy.sparse.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(2 * spec.n_bins, col),
    )
    matrix.sort_indices()
    return CQTKernel(
        blocks=tuple(blocks),
        matrix=matrix,
        window_length=window_length,
        offset=offset,
        bin_delay=bin_delay,
        frequencies=freqs,
        lengths=lengths,
    )


def _kernel_support(row: np.ndarray, length: int) -> np.ndarray:
    """The ``length`` samples of one kernel row that nnAudio filled (its non-zero span)."""
    nz = np.flatnonzero(np.abs(row) > 0)
    return row[nz[0] : nz[0] + length]


def _real_rows(seg: np.ndarray, n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows mapping a block's stacked rfft ``[Re X, Im X]`` to the frame's Re and Im parts.

    The frame value is ``sum_n x[n] conj(h[n]) = (1/N) sum_f X[f] conj(H[f])`` over all f;
    negative frequencies are folded in through ``X[-f] = conj(X[f])``.
    """
    spec = np.conj(np.fft.fft(seg)) / n_fft
    n_freq = n_fft // 2 + 1
    pos = spec[:n_freq]
    neg = np.zeros(n_freq, np.complex128)
    f = np.arange(1, (n_fft + 1) // 2)
    neg[f] = spec[n_fft - f]
    re_row = np.concatenate([pos.real + neg.real, -pos.imag + neg.imag])
    im_row = np.concatenate([pos.imag + neg.imag, pos.real - neg.real])
    return re_row, im_row


def _sparse_support(row: np.ndarray, tol: float) -> np.ndarray:
    """Indices to keep so that the dropped entries hold at most ``tol²`` of the energy."""
    if tol == 0:
        return np.flatnonzero(row)
    order = np.argsort(np.abs(row))
    energy = np.cumsum(row[order] ** 2)
    dropped = energy <= (tol**2) * energy[-1]
    return np.sort(order[~dropped])


def mel_kernel(spec: MelSpec) -> MelKernel:
    """The STFT window and mel basis of ``spec`` (built once, then from the cache)."""
    a = cached_arrays("kernels", _cache_key(spec), lambda: _build_mel(spec))
    return MelKernel(window=a["window"], basis=a["basis"], frequencies=a["frequencies"])


def _build_mel(spec: MelSpec) -> dict[str, np.ndarray]:
    """NnAudio's STFT window (scipy's, as nnAudio takes it) and ``get_mel`` filter bank."""
    from nnAudio.utils import get_mel
    from scipy.signal import get_window

    window = get_window(spec.window, spec.n_fft, fftbins=True).astype(np.float32)
    fmax = spec.fmax if spec.fmax is not None else spec.sr / 2
    basis = get_mel(spec.sr, spec.n_fft, spec.n_mels, spec.fmin, fmax, htk=spec.htk, norm=1)
    return {"window": window, "basis": np.asarray(basis, np.float32),
            "frequencies": _mel_centres(spec.n_mels, spec.fmin, fmax, spec.htk)}


def _mel_centres(n_mels: int, fmin: float, fmax: float, htk: bool) -> np.ndarray:
    """Centre frequencies (Hz) of the mel bands."""
    from nnAudio.librosa_functions import mel_frequencies

    return np.asarray(mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)[1:-1])


def log_compress(mag, gain: float | None, base: float = math.e):
    """``log_base(1 + gain * mag)``, or ``mag`` unchanged when ``gain`` is None."""
    if gain is None:
        return mag
    out = (mag * gain).log1p() if hasattr(mag, "log1p") else np.log1p(mag * gain)
    return out if base == math.e else out / math.log(base)
