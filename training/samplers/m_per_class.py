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


class StratifiedMPerClassSampler:
    """Batches whose classes are drawn stratum by stratum, ``m`` examples each.

    A stratum is a set of classes and how many of them every batch holds, so a batch's
    make-up does not drift with how finely each kind of data is labelled: e.g. all six
    core drum classes, 2 of the 20 percussion instruments and 8 of the 11 instrument
    families in every batch of 16 classes.

    Parameters
    ----------
    labels : sequence
        Class of each example.
    strata : sequence of (predicate, n)
        ``predicate(class) -> bool`` picks a stratum's classes (each class goes to the
        first stratum that takes it; classes no stratum takes are never drawn); ``n``
        classes of it per batch (fewer if it has fewer).
    m : int
    seed : int
    """

    def __init__(self, labels: Sequence, strata, *, m: int = 4, seed: int = 0) -> None:
        self.labels = np.asarray(labels)
        classes = np.unique(self.labels)
        taken: set = set()
        self.strata = []
        for pick, n in strata:
            cls = [c for c in classes if c not in taken and pick(c)]
            taken.update(cls)
            if cls and n > 0:
                self.strata.append((np.array(cls), int(n)))
        if m < 1 or sum(min(n, len(c)) for c, n in self.strata) < 2:
            raise ConfigError(f"m={m} must be >= 1 and the strata must hold >= 2 classes")
        self.m = m
        self.members = {c: np.flatnonzero(self.labels == c) for c in taken}
        self.rng = np.random.default_rng(seed)

    @property
    def batch_size(self) -> int:
        """Examples per batch: classes per batch × m."""
        return self.m * sum(min(n, len(c)) for c, n in self.strata)

    def batch(self, batch_size: int | None = None) -> np.ndarray:
        """Indices of one batch (its size is fixed by the strata; ``batch_size`` is ignored)."""
        out = []
        for cls, n in self.strata:
            for c in self.rng.choice(cls, size=min(n, len(cls)), replace=False):
                out.append(self.rng.choice(self.members[c], size=self.m,
                                           replace=len(self.members[c]) < self.m))
        return np.concatenate(out)
