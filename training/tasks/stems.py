"""Train a stem embedder: Hashizume's track-based triplets, cosine triplet loss."""

from __future__ import annotations

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.errors import ConfigError
from rtsim.training.corpora import ensure_corpus
from rtsim.training.eval.metrics import knn_accuracy
from rtsim.training.losses import TripletBatch, TripletMarginLoss
from rtsim.training.samplers import TrackTripletSampler
from rtsim.training.tasks.songs import split_segments

__all__ = ["StemTask"]

ROLES = ("drums", "bass", "piano", "guitar", "mix")


class StemTask:
    """Hashizume's track-based triplets of 3-s segments; cosine triplet loss; 128-d.

    The positive comes from the same piece (at most 50 % overlap), the negative from
    another piece; margin 0.2; unit vectors.

    Config: ``[model] kwargs.role`` (drums, bass, piano, guitar or mix), ``[data] train``
    (a songs corpus), ``[data] validation_fraction`` (by piece, default 0.1).
    Validation score: 5-NN piece-ID accuracy of the validation pieces' segments.
    """

    def __init__(self, cfg, *, progress: bool = True) -> None:
        from rtsim.models.stems import ARCH_KWARGS, spec_for

        role = cfg.kwargs.get("role")
        if role not in ROLES:
            raise ConfigError(f"[model] kwargs.role={role!r} must be one of {ROLES}")
        self.role = role
        self.spec = spec_for(role)
        self.architecture = "rtsim.models.stems.net:StemNet"
        self.arch_kwargs = {**ARCH_KWARGS, **{k: v for k, v in cfg.kwargs.items()
                                              if k != "role"}}
        corpus = ensure_corpus(cfg.data["train"], progress=progress)
        frac = float(cfg.data.get("validation_fraction", 0.1))
        common = dict(role=role, spec=self.spec.frontend, window=self.spec.window,
                      cache=cache_dir() / "features", progress=progress)
        self.train_set, self.val_set = split_segments(corpus, fraction=frac, **common)
        self.sampler = TrackTripletSampler(self.train_set.pieces, self.train_set.starts,
                                           window=self.spec.window, max_overlap=0.5,
                                           seed=cfg.train.seed)
        self.loss_fn = TripletMarginLoss(margin=cfg.loss.margin,
                                         metric=cfg.loss.metric)

    def build_model(self) -> torch.nn.Module:
        """A fresh stem network."""
        from rtsim.models.blocks import make_net
        from rtsim.models.stems.net import StemNet

        return make_net(StemNet, self.arch_kwargs)

    def loss(self, model, batch: int, rng: np.random.Generator, device) -> torch.Tensor:
        """Triplet loss of ``batch`` track triplets."""
        a, p, n = self.sampler.sample(batch)
        x = np.concatenate([self.train_set.windows(ix) for ix in (a, p, n)])
        z = model(torch.from_numpy(x).to(device))
        return self.loss_fn(TripletBatch(*z.split(batch)))

    def validate(self, model, device) -> dict[str, float]:
        """5-NN piece-ID accuracy over the validation segments (cosine)."""
        emb = self.val_set.embed(model, device)
        acc = knn_accuracy(emb / np.linalg.norm(emb, axis=1, keepdims=True),
                           self.val_set.pieces, k=5)
        return {"score": acc, "piece_acc": acc, "segments": float(len(emb))}
