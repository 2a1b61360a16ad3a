"""Batches with ``m`` examples of each of several classes (for in-batch mining)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rtsim.errors import ConfigError

__all__ = ["MPerClassSampler"]


class MPerClassSampler:
    """Draw batches of ``batch_size // m`` classes × ``m`` examples each.

    Classes with fewer than ``m`` examples are sampled with replacement.

    Parameters
    ----------
    labels : sequence
        Class of each example.
    m : int
    seed : int
    """

    def __init__(self, labels: Sequence, *, m: int = 4, seed: int = 0) -> None:
        self.labels = np.asarray(labels)
        self.classes = np.unique(self.labels)
        if m < 1 or len(self.classes) < 2:
            raise ConfigError(f"m={m} must be >= 1 and there must be >= 2 classes")
        self.m = m
        self.members = {c: np.flatnonzero(self.labels == c) for c in self.classes}
        self.rng = np.random.default_rng(seed)

    def batch(self, batch_size: int) -> np.ndarray:
        """Indices of one batch (length ``batch_size`` rounded down to a multiple of m)."""
        n_classes = batch_size // self.m
        if n_classes < 2:
            raise ConfigError(f"batch_size={batch_size} must hold at least 2 classes of m={self.m}")
        chosen = self.rng.choice(self.classes, size=min(n_classes, len(self.classes)),
                                 replace=False)
        out = [self.rng.choice(self.members[c], size=self.m,
                               replace=len(self.members[c]) < self.m) for c in chosen]
        return np.concatenate(out)
