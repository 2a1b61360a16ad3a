"""The 3-D map of a library: where each vector (and each live query) sits.

Embedders with a native map (``timbre``, ``pca``) use their first three dimensions;
every other library fits a PCA to 3 dimensions at build time. Either way the map is then
centred and scaled by one factor (shape preserved) so that the library's points fall in
[-1, 1] (live sounds unlike any item may land outside).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Projection", "fit_projection"]


@dataclass(frozen=True)
class Projection:
    """``xyz = ((v - mean) @ components.T - center) / scale``.

    Attributes
    ----------
    mean : np.ndarray, shape (dim,)
    components : np.ndarray, shape (3, dim)
    center : np.ndarray, shape (3,)
    scale : float
    """

    mean: np.ndarray
    components: np.ndarray
    center: np.ndarray
    scale: float

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        """Map vectors of shape (..., dim) to (..., 3), float32."""
        raw = (np.asarray(vectors, np.float32) - self.mean) @ self.components.T
        return ((raw - self.center) / self.scale).astype(np.float32)

    def state(self) -> dict[str, torch.Tensor]:
        """As tensors, for safetensors."""
        return {
            "mean": torch.from_numpy(self.mean),
            "components": torch.from_numpy(self.components),
            "center": torch.from_numpy(self.center),
            "scale": torch.tensor([self.scale], dtype=torch.float32),
        }

    @classmethod
    def from_state(cls, state) -> Projection:
        """Inverse of :meth:`state`."""
        return cls(
            mean=state["mean"].numpy().astype(np.float32),
            components=state["components"].numpy().astype(np.float32),
            center=state["center"].numpy().astype(np.float32),
            scale=float(state["scale"][0]),
        )


#: The PCA of a larger library is fitted on this many rows (a seeded sample); the
#: centring and scale still see every row.
PCA_FIT_ROWS = 200_000


def fit_projection(vectors: np.ndarray, *, native: bool) -> Projection:
    """Fit the map of a library's vectors (shape (n, dim))."""
    v = np.asarray(vectors, np.float64)
    dim = v.shape[1]
    if native:
        mean, comps = np.zeros(dim), np.eye(3, dim)
    else:
        fit = v if len(v) <= PCA_FIT_ROWS else \
            v[np.sort(np.random.default_rng(0).choice(len(v), PCA_FIT_ROWS, replace=False))]
        mean = fit.mean(axis=0)
        _, _, vt = np.linalg.svd(fit - mean, full_matrices=False)
        comps = np.zeros((3, dim))
        comps[: min(3, len(vt))] = vt[:3]
    raw = (v - mean) @ comps.T
    center = raw.mean(axis=0)
    spread = np.abs(raw - center).max() if len(raw) else 0.0
    return Projection(
        mean=mean.astype(np.float32),
        components=comps.astype(np.float32),
        center=center.astype(np.float32),
        scale=float(spread) if spread > 1e-12 else 1.0,
    )
