"""Baseline descriptors computed in the same run as the learned embeddings.

- MFCC statistics: what FluCoMa and CataRT users match on. 13 MFCCs from a 40-band mel
  front end (nnAudio kernels, like every rtsim feature), with their deltas; mean and
  standard deviation over the loud frames: 52 numbers per item, z-scored per dimension.
- MFCC-VQ (Lee et al.): 13 MFCC + Δ + ΔΔ per frame, k-means codebook (K = 1024) on
  sampled frames, normalised histogram of codewords per item, Euclidean distance.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from rtsim.features import MelSpec, make_frontend

__all__ = ["mfcc_frames", "mfcc_stats", "mfcc_descriptor", "mfcc_segments", "zscore", "MfccVQ"]


def mfcc_frames(x: np.ndarray, *, sr: int, n_mfcc: int = 13) -> np.ndarray:
    """MFCCs of a signal, shape (frames, n_mfcc) (DCT-II of the log mel energies)."""
    fe = _mel(sr)
    mel = fe.offline(np.asarray(x, np.float32), primed=True).numpy()
    logmel = np.log(np.maximum(mel, 1e-10))
    return scipy.fft.dct(logmel, type=2, norm="ortho", axis=1)[:, :n_mfcc]


_MELS: dict[int, object] = {}


def _mel(sr: int):
    if sr not in _MELS:
        _MELS[sr] = make_frontend(MelSpec(sr=sr, n_fft=1024, hop_length=256, n_mels=40,
                                          log_gain=None, fmax=min(8000.0, sr / 2)))
    return _MELS[sr]


def mfcc_stats(mfcc: np.ndarray, *, loud: np.ndarray | None = None) -> np.ndarray:
    """Mean and std of MFCCs and their deltas over the (loud) frames: shape (4·n,)."""
    d = np.diff(mfcc, axis=0, prepend=mfcc[:1])
    if loud is not None and loud.any():
        mfcc, d = mfcc[loud], d[loud]
    return np.concatenate([mfcc.mean(0), mfcc.std(0), d.mean(0), d.std(0)])


def mfcc_descriptor(x: np.ndarray, *, sr: int, range_db: float = 60.0) -> np.ndarray:
    """:func:`mfcc_stats` of a signal over its frames within ``range_db`` of the loudest."""
    m = mfcc_frames(x, sr=sr)
    db = 10 * np.log10(np.mean(m[:, :1] ** 2, axis=1) + 1e-12)
    return mfcc_stats(m, loud=db > db.max() - range_db)


def zscore(x: np.ndarray) -> np.ndarray:
    """Standardise each dimension over the items."""
    return (x - x.mean(0)) / np.maximum(x.std(0), 1e-9)


class MfccVQ:
    """Lee et al.'s MFCC-VQ baseline: bag-of-codewords histograms of MFCC+Δ+ΔΔ frames."""

    def __init__(self, *, k: int = 1024, sample: int = 100_000, seed: int = 0) -> None:
        self.k, self.sample, self.seed = k, sample, seed
        self.codebook = None

    @staticmethod
    def features(mfcc: np.ndarray) -> np.ndarray:
        """MFCC + Δ + ΔΔ per frame, shape (frames, 39)."""
        d1 = np.gradient(mfcc, axis=0) if len(mfcc) > 1 else np.zeros_like(mfcc)
        d2 = np.gradient(d1, axis=0) if len(mfcc) > 1 else np.zeros_like(mfcc)
        return np.concatenate([mfcc, d1, d2], axis=1)

    def fit(self, frames: list[np.ndarray]) -> MfccVQ:
        """Learn the codebook from frames sampled across items."""
        import faiss

        allf = np.concatenate(frames).astype(np.float32)
        rng = np.random.default_rng(self.seed)
        pick = allf[rng.choice(len(allf), size=min(self.sample, len(allf)), replace=False)]
        k = min(self.k, len(pick))
        km = faiss.Kmeans(pick.shape[1], k, niter=20, seed=self.seed, verbose=False)
        km.train(pick)
        self.codebook = km
        return self

    def histogram(self, frames: np.ndarray) -> np.ndarray:
        """Normalised codeword histogram of one item's frames, shape (K,)."""
        _, idx = self.codebook.index.search(frames.astype(np.float32), 1)
        h = np.bincount(idx[:, 0], minlength=self.codebook.k).astype(np.float64)
        return h / max(h.sum(), 1.0)


def mfcc_segments(seg) -> np.ndarray:
    """MFCC statistics of each segment of a ``SegmentSet``, from its stored mel frames.

    The frames are the mel front end's ``log10(1 + 10 S)``; the statistics are z-scored.
    """
    out = []
    for s in range(len(seg.pieces)):
        w = seg.windows(np.array([s]))[0]  # log10(1 + 10 S) mel frames
        logmel = np.log(np.maximum((10 ** w - 1) / 10, 1e-10))
        out.append(mfcc_stats(scipy.fft.dct(logmel, type=2, norm="ortho", axis=1)[:, :13]))
    return zscore(np.array(out))
