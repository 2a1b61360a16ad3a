"""Batches with ``m`` examples of each of several classes (for in-batch mining)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rtsim.errors import ConfigError

__all__ = ["MPerClassSampler", "StratifiedMPerClassSampler"]


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
    spread : sequence of arrays, optional
        Keys of each example, coarse to fine (e.g. its source, then its kit): a class's
        ``m`` examples are then drawn level by level, each level's keys uniformly and
        distinct while the class has enough of them, so positives come from different
        libraries and a source with many kits of a class does not define the class.
        Without it, members are drawn uniformly.
    """

    def __init__(self, labels: Sequence, strata, *, m: int = 4, seed: int = 0,
                 spread: Sequence[Sequence] | None = None) -> None:
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
        self.trees = None
        if spread is not None:
            keys = [np.asarray(k) for k in spread]
            if any(len(k) != len(self.labels) for k in keys):
                raise ConfigError(f"spread keys must have one entry per example "
                                  f"({len(self.labels)}), got {[len(k) for k in keys]}")
            self.trees = {c: _tree(idx, keys) for c, idx in self.members.items()}

    @property
    def batch_size(self) -> int:
        """Examples per batch: classes per batch × m."""
        return self.m * sum(min(n, len(c)) for c, n in self.strata)

    def batch(self, batch_size: int | None = None) -> np.ndarray:
        """Indices of one batch (its size is fixed by the strata; ``batch_size`` is ignored)."""
        out = []
        for cls, n in self.strata:
            for c in self.rng.choice(cls, size=min(n, len(cls)), replace=False):
                if self.trees is None:
                    out.append(self.rng.choice(self.members[c], size=self.m,
                                               replace=len(self.members[c]) < self.m))
                else:
                    out.append(_spread_draw(self.trees[c], self.m, self.rng))
        return np.concatenate(out)


def _tree(idx: np.ndarray, keys: list[np.ndarray]):
    """Nested ``{key: subtree}`` of example indices, one level per key array."""
    if not keys:
        return idx
    level = keys[0][idx]
    return {k: _tree(idx[level == k], keys[1:]) for k in np.unique(level)}


def _spread_draw(tree, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` examples of a tree: branches uniformly, distinct until each has been used."""
    if isinstance(tree, np.ndarray):
        return rng.choice(tree, size=m, replace=len(tree) < m)
    branches = list(tree.values())
    order = np.concatenate([rng.permutation(len(branches))
                            for _ in range(-(-m // len(branches)))])[:m]
    counts = np.bincount(order, minlength=len(branches))
    return np.concatenate([_spread_draw(branches[b], int(k), rng)
                           for b, k in enumerate(counts) if k])
