"""``pca``: principal components of front-end windows, fitted on the library itself.

The song2vec paper's PCA baseline, and rtsim's embedder that needs no training: each
input window (4 low-latency CQT frames = 200 ms) is flattened and projected onto the
library's 32 leading principal components. The first three components are its 3-D map
(``native_xyz``); all 32 are searched with the L2 metric.
"""

from __future__ import annotations

import numpy as np
import torch

from rtsim.embed.plugin import EmbedderPlugin, EmbedderSpec
from rtsim.features import CQTSpec

__all__ = ["PCAProjection", "fit_pca", "plugin", "SPEC"]

SPEC = EmbedderSpec(
    name="pca",
    frontend=CQTSpec(mode="low_latency"),
    window=4,
    hop=1,
    dim=32,
    metric="l2",
    native_xyz=True,
    description="PCA of 4-frame low-latency CQT windows, fitted on the library (song2vec's "
    "PCA baseline); first 3 components are the map.",
)


class PCAProjection(torch.nn.Module):
    """``(x.flatten() - mean) @ components.T``.

    Parameters
    ----------
    mean : torch.Tensor, shape (window * n_bins,)
    components : torch.Tensor, shape (dim, window * n_bins)
    """

    def __init__(self, mean: torch.Tensor, components: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.float())
        self.register_buffer("components", components.float())

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        """``(batch, window, n_bins)`` -> ``(batch, dim)``."""
        return (windows.flatten(1) - self.mean) @ self.components.T


def fit_pca(windows: np.ndarray, spec: EmbedderSpec = SPEC) -> dict[str, torch.Tensor]:
    """Fit the projection on library windows.

    Parameters
    ----------
    windows : np.ndarray, shape (n, window, n_bins)
    spec : EmbedderSpec
        Gives ``dim``, the number of components kept.

    Returns
    -------
    dict with ``mean`` (D,), ``components`` (dim, D) and ``explained_variance`` (dim,),
    D = window·n_bins. Component signs are fixed (largest coefficient positive) so that
    the same library always gives the same map.
    """
    x = np.asarray(windows, np.float64).reshape(len(windows), -1)
    if len(x) == 0:
        raise ValueError("cannot fit PCA on zero windows")
    mean = x.mean(axis=0)
    xc = x - mean
    cov = xc.T @ xc / max(1, len(x) - 1)
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1][: spec.dim]
    comps = evecs[:, order].T
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    comps *= np.where(signs == 0, 1, signs)[:, None]
    return {
        "mean": torch.from_numpy(mean.astype(np.float32)),
        "components": torch.from_numpy(comps.astype(np.float32)),
        "explained_variance": torch.from_numpy(np.clip(evals[order], 0, None).astype(np.float32)),
    }


def _build(state) -> torch.nn.Module:
    return PCAProjection(state["mean"], state["components"])


plugin = EmbedderPlugin(spec=SPEC, build=_build, fit=fit_pca)
