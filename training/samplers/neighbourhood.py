"""Humphrey's neighbourhoods: contrastive partitions of labelled notes.

Each neighbourhood splits the notes into "like the anchor" and "unlike it":

- ``class``: the same instrument (GM program);
- ``pitch``: the same absolute pitch;
- ``class_pitch``: the same instrument and pitch;
- ``class_pitch2``: the same instrument within ±2 semitones;
- ``family``: the same instrument family (rtsim's addition: it teaches the map to place
  unseen instruments near their kin).

A triplet picks a neighbourhood (by weight), an anchor, a positive inside the anchor's
partition and a negative outside it. Anchors without any partner are never drawn for
that neighbourhood.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from rtsim.errors import ConfigError

__all__ = ["NEIGHBOURHOODS", "NeighbourhoodSampler", "same"]

NEIGHBOURHOODS = ("class", "pitch", "class_pitch", "class_pitch2", "family")


def same(kind: str, a: dict, b: dict) -> bool:
    """Whether notes ``a`` and ``b`` (``program``, ``pitch``) share neighbourhood ``kind``."""
    if kind == "class":
        return a["program"] == b["program"]
    if kind == "pitch":
        return a["pitch"] == b["pitch"]
    if kind == "class_pitch":
        return a["program"] == b["program"] and a["pitch"] == b["pitch"]
    if kind == "class_pitch2":
        return a["program"] == b["program"] and abs(a["pitch"] - b["pitch"]) <= 2
    if kind == "family":
        return a["family"] == b["family"]
    raise ConfigError(f"neighbourhood={kind!r} must be one of {NEIGHBOURHOODS}")


class NeighbourhoodSampler:
    """Draw (anchor, positive, negative, neighbourhood) index quadruples.

    Parameters
    ----------
    labels : sequence of dict
        Per note: ``program`` (int), ``pitch`` (MIDI int) and, for the ``family``
        neighbourhood, ``family``.
    neighbourhoods : sequence of str
    weights : sequence of float or None
        Relative frequency of each neighbourhood (uniform by default).
    seed : int
    """

    def __init__(self, labels: Sequence[dict], *, neighbourhoods: Sequence[str] = NEIGHBOURHOODS,
                 weights: Sequence[float] | None = None, seed: int = 0) -> None:
        probe = {"program": 0, "pitch": 0, "family": ""}
        for kind in neighbourhoods:
            same(kind, probe, probe)
        self.labels = list(labels)
        self.kinds = list(neighbourhoods)
        w = np.ones(len(self.kinds)) if weights is None else np.asarray(weights, float)
        if w.shape != (len(self.kinds),) or (w < 0).any() or w.sum() == 0:
            raise ConfigError(f"weights={weights!r} must be one non-negative weight per "
                              f"neighbourhood {self.kinds}")
        self.weights = w / w.sum()
        self.rng = np.random.default_rng(seed)
        self._groups = [self._partners(kind) for kind in self.kinds]

    def _partners(self, kind: str) -> list[np.ndarray]:
        """For each note, the indices of the other notes in its partition."""
        program = np.array([lab["program"] for lab in self.labels])
        pitch = np.array([lab["pitch"] for lab in self.labels])
        family = np.array([lab.get("family", "") for lab in self.labels])
        by_key: dict[tuple, list[int]] = defaultdict(list)
        for i, (pr, pi) in enumerate(zip(program, pitch, strict=True)):
            by_key[(pr, pi)].append(i)
        out = []
        for i, (pr, pi) in enumerate(zip(program, pitch, strict=True)):
            if kind == "class":
                members = np.flatnonzero(program == pr)
            elif kind == "pitch":
                members = np.flatnonzero(pitch == pi)
            elif kind == "family":
                members = np.flatnonzero(family == family[i])
            elif kind == "class_pitch":
                members = np.array(by_key[(pr, pi)])
            else:
                members = np.array([j for d in range(-2, 3) for j in by_key.get((pr, pi + d), [])])
            out.append(members[members != i])
        return out

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``n`` quadruples as four int arrays: anchor, positive, negative, neighbourhood."""
        kinds = self.rng.choice(len(self.kinds), size=n, p=self.weights)
        a, p, q = np.empty(n, int), np.empty(n, int), np.empty(n, int)
        for t, k in enumerate(kinds):
            a[t], p[t], q[t] = self._one(k)
        return a, p, q, kinds

    def _one(self, k: int) -> tuple[int, int, int]:
        partners = self._groups[k]
        n = len(self.labels)
        for _ in range(1000):
            anchor = int(self.rng.integers(n))
            if len(partners[anchor]) and len(partners[anchor]) < n - 1:
                break
        else:
            raise ConfigError(f"neighbourhood {self.kinds[k]!r}: no note has both a partner "
                              "and a non-partner")
        pos = int(self.rng.choice(partners[anchor]))
        inside = np.zeros(n, bool)
        inside[partners[anchor]] = True
        inside[anchor] = True
        while True:
            neg = int(self.rng.integers(n))
            if not inside[neg]:
                return anchor, pos, neg
