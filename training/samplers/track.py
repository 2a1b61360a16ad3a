"""Hashizume's track-based triplets: same piece is similar, another piece is not.

Segments are windows of a piece's frames. A triplet takes an anchor segment, a positive
from the same piece overlapping it by at most ``max_overlap`` of a window, and a
negative from another piece. Silent segments are excluded up front (by the caller's
``loud`` mask).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rtsim.errors import ConfigError

__all__ = ["TrackTripletSampler", "segment_starts"]


def segment_starts(n_frames: int, *, window: int, hop: int) -> np.ndarray:
    """Start frames of every complete window of a piece."""
    if n_frames < window:
        return np.zeros(0, int)
    return np.arange(0, n_frames - window + 1, hop)


class TrackTripletSampler:
    """Draw (anchor, positive, negative) segment indices.

    Parameters
    ----------
    pieces : sequence of int
        Piece id of each segment.
    starts : sequence of int
        Start frame of each segment (within its piece).
    window : int
        Segment length in frames.
    max_overlap : float
        Largest allowed overlap of anchor and positive, as a fraction of ``window``.
    seed : int
    """

    def __init__(self, pieces: Sequence[int], starts: Sequence[int], *, window: int,
                 max_overlap: float = 0.5, seed: int = 0) -> None:
        self.pieces = np.asarray(pieces)
        self.starts = np.asarray(starts)
        if self.pieces.shape != self.starts.shape or len(self.pieces) == 0:
            raise ConfigError("need one piece id and one start per segment (and > 0 segments)")
        self.min_gap = int(np.ceil(window * (1 - max_overlap)))
        self.rng = np.random.default_rng(seed)
        self.by_piece = {p: np.flatnonzero(self.pieces == p) for p in np.unique(self.pieces)}
        if len(self.by_piece) < 2:
            raise ConfigError("track triplets need segments from at least two pieces")
        self.anchors = np.array([i for i in range(len(self.pieces)) if len(self._positives(i))])
        if len(self.anchors) == 0:
            raise ConfigError(f"no piece has two segments at least {self.min_gap} frames apart")
        self.anchors_of = {p: self.anchors[self.pieces[self.anchors] == p]
                           for p in np.unique(self.pieces[self.anchors])}

    def _positives(self, i: int) -> np.ndarray:
        same = self.by_piece[self.pieces[i]]
        return same[np.abs(self.starts[same] - self.starts[i]) >= self.min_gap]

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` triplets as three int arrays: anchor, positive, negative."""
        a = self.rng.choice(self.anchors, size=n)
        p = np.array([self.rng.choice(self._positives(i)) for i in a], int)
        neg = np.empty(n, int)
        for t, i in enumerate(a):
            while True:
                j = int(self.rng.integers(len(self.pieces)))
                if self.pieces[j] != self.pieces[i]:
                    neg[t] = j
                    break
        return a, p, neg

    def pairs(self, pieces: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Two segments of each given piece, overlapping by at most ``max_overlap``.

        For in-batch track triplets: each segment's positive is its partner. Every piece
        must be a key of :attr:`anchors_of`.
        """
        first, second = [], []
        for p in pieces:
            if p not in self.anchors_of:
                raise ConfigError(f"piece {p} has no two segments {self.min_gap} frames apart")
            a = self.rng.choice(self.anchors_of[p])
            first.append(a)
            second.append(self.rng.choice(self._positives(int(a))))
        return np.array(first, int), np.array(second, int)
