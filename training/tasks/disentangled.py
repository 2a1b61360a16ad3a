"""Train the disentangled embedder: masked triplets per dimension plus track triplets.

Similarity per dimension (Lee et al.): sharing the genre, the mood or an instrument, or a
tempo within 5 BPM. A masked triplet picks a dimension, an anchor piece, a positive piece
similar to it along that dimension and a negative piece that is not, and compares their
segments inside that dimension's subspace only (margin 0.1). Track triplets (a positive
segment from the same piece with at most 50 % overlap, a negative from another) act on
the whole space, weighted by λ = 0.5.

Two ways to form the triplets (``[loss] mining``):

- ``"sampled"`` (Lee et al.): ``batch`` triplets per step, each drawn for one dimension
  from a pool of piece triplets, plus ``batch // 2`` track triplets; every segment that
  goes through the network serves one triplet.
- ``"batch_all"`` (the default): ``batch`` pieces per step, two segments of each (at most
  50 % overlap). Every (anchor, positive, negative) of the batch that is valid for a
  dimension is a masked triplet of that dimension, and every segment's partner against
  the other pieces' segments is a track triplet; each loss is the mean of its active
  triplets (Hermans et al.'s batch-all). The same margin, masks and λ, but tens of
  thousands of triplets per forward pass instead of a few dozen, which is what fits
  the training into a CPU budget.
"""

from __future__ import annotations

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.errors import ConfigError
from rtsim.training.corpora import ensure_corpora
from rtsim.training.eval.metrics import triplet_accuracy
from rtsim.training.losses import (
    BatchAllTripletLoss,
    MaskedBatchAllTripletLoss,
    MaskedTripletLoss,
    TripletBatch,
    TripletMarginLoss,
)
from rtsim.training.samplers import TrackTripletSampler
from rtsim.training.tasks.songs import split_segments

__all__ = ["DisentangledTask", "similar", "similarity_matrix", "piece_labels",
           "dimension_triplets", "triplets_from_similarity", "song_embeddings"]

TEMPO_BPM = 5.0


def piece_labels(labels: dict) -> dict:
    """The four dimensions of a piece: genre, mood, instrument tags, tempo (BPM)."""
    return {"genre": labels.get("genre"), "mood": labels.get("mood"),
            "instrument": frozenset(labels.get("instruments", ())),
            "tempo": float(labels.get("tempo_bpm", np.nan))}


def similar(dim: str, a: dict, b: dict) -> bool:
    """Whether pieces ``a`` and ``b`` (:func:`piece_labels`) are similar along ``dim``."""
    if dim == "instrument":
        return bool(a["instrument"] & b["instrument"])
    if dim == "tempo":
        return abs(a["tempo"] - b["tempo"]) <= TEMPO_BPM
    return a[dim] == b[dim]


def similarity_matrix(labels: list[dict], dim: str) -> np.ndarray:
    """``S[i, j]``: pieces ``i`` and ``j`` are similar along ``dim`` (diagonal True)."""
    m = len(labels)
    return np.array([[i == j or similar(dim, labels[i], labels[j]) for j in range(m)]
                     for i in range(m)])


def dimension_triplets(labels: list[dict], dim: str, n: int, rng) -> np.ndarray:
    """``n`` (anchor, positive, negative) piece triplets for ``dim``, shape (n, 3)."""
    return triplets_from_similarity(similarity_matrix(labels, dim), n, rng)


def triplets_from_similarity(s: np.ndarray, n: int, rng) -> np.ndarray:
    """``n`` piece triplets drawn from a :func:`similarity_matrix`, shape (n, 3).

    Empty when no piece has both a similar and a dissimilar other piece.
    """
    sim, dis, anchors = _anchors(s)
    if len(anchors) == 0:
        return np.zeros((0, 3), int)
    out = np.empty((n, 3), int)
    for t in range(n):
        a = rng.choice(anchors)
        out[t] = a, rng.choice(np.flatnonzero(sim[a])), rng.choice(np.flatnonzero(dis[a]))
    return out


def _anchors(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positive and negative masks of a similarity matrix, and the pieces having both."""
    sim, dis = s & ~np.eye(len(s), dtype=bool), ~s
    return sim, dis, np.flatnonzero(sim.any(1) & dis.any(1))


def song_embeddings(model, seg, device, *, n_sub: int) -> np.ndarray:
    """Mean of each piece's non-overlapping 3-s windows, subspaces re-normalised."""
    z = seg.embed(model, device)
    pieces = np.unique(seg.pieces)
    out = []
    for p in pieces:
        sel = (seg.pieces == p) & ((seg.starts - seg.starts[seg.pieces == p].min())
                                   % seg.window == 0)
        v = z[sel].mean(0).reshape(n_sub, -1)
        out.append((v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).ravel())
    return np.array(out)


class DisentangledTask:
    """Masked triplets (per dimension) + λ · track triplets; see the module notes.

    Config: ``[data] train`` (a songs corpus or a list of them), ``validation_fraction``;
    ``[loss] margin`` (0.1), ``track_weight`` (λ = 0.5), ``mining`` (``"batch_all"`` or
    ``"sampled"``); ``[train] batch``: pieces per step (batch_all) or triplets (sampled).
    Validation score: overall subspace triplet accuracy of validation pieces.
    """

    def __init__(self, cfg, *, progress: bool = True) -> None:
        from rtsim.models.disentangled import ARCH_KWARGS, DIMENSIONS, SPEC

        self.spec, self.dims = SPEC, DIMENSIONS
        self.architecture = "rtsim.models.disentangled.net:DisentangledNet"
        self.arch_kwargs = {**ARCH_KWARGS, **cfg.kwargs}
        corpus = ensure_corpora(cfg.data["train"], progress=progress)
        frac = float(cfg.data.get("validation_fraction", 0.1))
        common = dict(role="mix", spec=SPEC.frontend, window=SPEC.window,
                      cache=cache_dir() / "features", progress=progress)

        self.train_set, self.val_set = split_segments(corpus, fraction=frac, **common)
        self.slices = [(s.start, s.stop) for s in SPEC.subspaces]
        margin = cfg.loss.margin
        self.mining = cfg.loss.mining
        self.masked = MaskedTripletLoss(self.slices, margin=margin)
        self.track = TripletMarginLoss(margin=margin, metric="l2")
        self.masked_all = MaskedBatchAllTripletLoss(self.slices, margin=margin)
        self.track_all = BatchAllTripletLoss(margin=margin, metric="l2")
        self.track_weight = cfg.loss.track_weight
        self.track_sampler = TrackTripletSampler(self.train_set.pieces, self.train_set.starts,
                                                 window=SPEC.window, seed=cfg.train.seed)
        self.piece_ids = np.unique(self.train_set.pieces)
        self.piece_labels = [piece_labels(self.train_set.labels[p]) for p in self.piece_ids]
        self.segments_of = {i: np.flatnonzero(self.train_set.pieces == p)
                            for i, p in enumerate(self.piece_ids)}
        self.similarity = np.stack([similarity_matrix(self.piece_labels, d) for d in self.dims])
        self.trained = [k for k, s in enumerate(self.similarity) if len(_anchors(s)[2])]
        if self.mining == "sampled":  # Lee's drawn triplets: a pool per dimension
            rng = np.random.default_rng(cfg.train.seed)
            self.pool = [triplets_from_similarity(s, 20000, rng) for s in self.similarity]
        self.paired = np.array([i for i, p in enumerate(self.piece_ids)
                                if p in self.track_sampler.anchors_of])
        if not self.trained:
            raise ConfigError("no dimension has both similar and dissimilar training pieces")
        val_pieces = np.unique(self.val_set.pieces)
        self.val_labels = [piece_labels(self.val_set.labels[p]) for p in val_pieces]
        vrng = np.random.default_rng(12345)
        self.val_triplets = {d: dimension_triplets(self.val_labels, d, 500, vrng)
                             for d in self.dims}

    def build_model(self) -> torch.nn.Module:
        """A fresh disentangled network."""
        from rtsim.models.blocks import make_net
        from rtsim.models.disentangled.net import DisentangledNet

        return make_net(DisentangledNet, self.arch_kwargs)

    def loss(self, model, batch: int, rng: np.random.Generator, device) -> torch.Tensor:
        """Masked triplet loss plus λ times the track triplet loss of one batch."""
        if self.mining == "batch_all":
            return self._loss_batch_all(model, batch, rng, device)
        which = rng.choice(self.trained, size=batch)
        pieces = np.stack([self.pool[k][rng.integers(20000)] for k in which])
        segs = np.vectorize(lambda p: rng.choice(self.segments_of[p]))(pieces)
        ta, tp, tn = self.track_sampler.sample(batch // 2)
        idx = np.concatenate([segs[:, 0], segs[:, 1], segs[:, 2], ta, tp, tn])
        z = model(torch.from_numpy(self.train_set.windows(idx)).to(device))
        masked = TripletBatch(*z[: 3 * batch].split(batch))
        track = TripletBatch(*z[3 * batch :].split(batch // 2))
        return self.masked(masked, torch.from_numpy(which).to(device)) + \
            self.track_weight * self.track(track)

    def _loss_batch_all(self, model, batch: int, rng, device) -> torch.Tensor:
        pieces = rng.choice(self.paired, size=min(batch, len(self.paired)), replace=False)
        first, second = self.track_sampler.pairs(self.piece_ids[pieces])
        z = model(torch.from_numpy(self.train_set.windows(np.concatenate([first, second])))
                  .to(device))
        who = np.concatenate([pieces, pieces])              # piece of each segment
        same = who[:, None] == who[None, :]
        sim = self.similarity[:, who[:, None], who[None, :]]
        positive = torch.from_numpy(sim & ~same).to(device)  # another piece, similar
        negative = torch.from_numpy(~sim).to(device)
        eye = np.eye(len(who), dtype=bool)
        track = self.track_all(z, torch.from_numpy(same & ~eye).to(device),
                               torch.from_numpy(~same).to(device))
        return self.masked_all(z, positive, negative) + self.track_weight * track

    def validate(self, model, device) -> dict[str, float]:
        """Triplet accuracy of validation pieces per dimension, subspace and whole space."""
        emb = song_embeddings(model, self.val_set, device, n_sub=len(self.dims))
        out, overall = {}, []
        for k, d in enumerate(self.dims):
            t = self.val_triplets[d]
            if not len(t):
                continue
            lo, hi = self.slices[k]
            sub = triplet_accuracy(emb[t[:, 0], lo:hi], emb[t[:, 1], lo:hi], emb[t[:, 2], lo:hi])
            out[f"{d}_subspace"] = sub
            out[f"{d}_whole"] = triplet_accuracy(emb[t[:, 0]], emb[t[:, 1]], emb[t[:, 2]])
            overall.append(sub)
        out["score"] = out["overall_subspace"] = float(np.mean(overall))
        return out
