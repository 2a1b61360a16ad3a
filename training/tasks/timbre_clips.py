"""The timbre map trained on one-shot clips of many sources, augmented (``[loss] mode = "clips"``).

The notes modes of :class:`~rtsim.training.tasks.timbre.TimbreTask` learn from rendered
note features; this one learns from the same one-shot sources as ``sample``
(:class:`~rtsim.training.tasks.sample.ClipViews`: every soundfont's own notes and the
packaged recordings, leave-one-source-out by ``[data] leave_out``), each window passed
through the augmentations that imitate what differs between libraries (level, EQ, room,
noise, varispeed, bit depth, lossy coding). The map stays Humphrey's: 3-D, Euclidean.

Each step draws ``m`` notes of each of ``batch // m`` instruments (a soundfont program, or
a recorded instrument: group and family together), two augmented views of each, all at
one onset-to-window lag (phase-matched, as the notes modes: the map only has to separate
sounds at the same stage of a note). Loss: every triplet of the batch (batch-all, L2,
``margin``) on instruments, plus ``family_weight`` times the same on families whose
positive is a note of *another* instrument of the family — what "family with the query's
program hidden" asks of the map.
Validation: notes of held-out programs, each the mean of its windows at
:data:`VALIDATION_LAGS_S` (as a library keeps a one-shot), 5-NN family accuracy with the
query's instrument hidden and 5-NN instrument accuracy.
"""

from __future__ import annotations

import numpy as np
import torch

from rtsim.training.eval.metrics import knn_accuracy
from rtsim.training.losses import BatchAllTripletLoss
from rtsim.training.samplers import MPerClassSampler
from rtsim.training.tasks.sample import ClipViews

__all__ = ["TimbreClipsTask", "VALIDATION_LAGS_S"]

VALIDATION_LAGS_S = (0.1, 0.25, 0.5, 0.8)
"""Onset-to-window-end lags whose windows a validation note is the mean of."""


class TimbreClipsTask:
    """Train the 3-D timbre map on augmented one-shot notes (see the module notes)."""

    def __init__(self, cfg, *, progress: bool = True) -> None:
        from rtsim.models.timbre import ARCH_KWARGS, SPEC

        self.spec = SPEC
        self.architecture = "rtsim.models.timbre.net:TimbreNet"
        self.arch_kwargs = {**ARCH_KWARGS, **cfg.kwargs}
        loss = cfg.loss
        self.clips = ClipViews(cfg.data.get("train"), spec=SPEC, kinds=("note",),
                               leave_out=cfg.data.get("leave_out"),
                               validation_fraction=cfg.data.get("validation_fraction", 0.1),
                               augment=loss.augment,
                               max_lag_s=loss.max_lag_s, seed=cfg.train.seed,
                               progress=progress)
        ts = self.clips.train_set
        self._instrument = _instruments(ts)
        self.batches = MPerClassSampler(self._instrument, m=loss.m, seed=cfg.train.seed)
        self.triplets = BatchAllTripletLoss(margin=loss.margin, metric="l2")
        self.family_weight = loss.family_weight

    def build_model(self) -> torch.nn.Module:
        """A fresh timbre network."""
        from rtsim.models.blocks import make_net
        from rtsim.models.timbre.net import TimbreNet

        return make_net(TimbreNet, self.arch_kwargs)

    def loss(self, model, batch: int, rng: np.random.Generator, device) -> torch.Tensor:
        """Instrument plus family batch-all triplet loss of two views of ``batch`` notes."""
        notes = self.batches.batch(batch)
        idx = np.concatenate([notes, notes])
        lags = np.full(len(idx), self.clips.random_lags(1, rng)[0])
        z = model(self.clips.augmented(idx, lags, rng, device))
        inst = _codes(self._instrument[idx])
        fam = _codes(self.clips.train_set.labels[idx])
        same_inst = (inst[:, None] == inst[None, :]).to(device)
        same_fam = (fam[:, None] == fam[None, :]).to(device)
        eye = torch.eye(len(idx), dtype=torch.bool, device=device)
        return self.triplets(z, same_inst & ~eye, ~same_inst) + self.family_weight * \
            self.triplets(z, same_fam & ~same_inst, ~same_fam)

    def validate(self, model, device) -> dict[str, float]:
        """Family (own instrument hidden) and instrument 5-NN accuracy of held-out notes."""
        vs = self.clips.validation()
        emb = np.mean([self.clips.embed(model, vs, lag, device) for lag in VALIDATION_LAGS_S],
                      axis=0)
        inst = _instruments(vs)
        fam = knn_accuracy(emb, vs.labels, k=5, exclude=inst)
        prog = knn_accuracy(emb, inst, k=5)
        return {"score": (fam + prog) / 2, "family_acc_other_programs": fam,
                "program_acc": prog}


def _instruments(clips) -> np.ndarray:
    """Each clip's instrument: its group (a soundfont program, a recorded pack) and label.

    A program holds one family, but a recorded pack may hold several instruments.
    """
    return np.char.add(np.char.add(clips.groups.astype(str), "/"), clips.labels.astype(str))


def _codes(names: np.ndarray) -> torch.Tensor:
    """Integer codes of ``names`` (equal names, equal codes)."""
    return torch.from_numpy(np.unique(names, return_inverse=True)[1].reshape(-1))
