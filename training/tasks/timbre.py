"""Train the timbre map: Humphrey's neighbourhoods over rendered notes, contrastive loss."""

from __future__ import annotations

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.training.corpora import ensure_corpora
from rtsim.training.eval.metrics import knn_accuracy
from rtsim.training.losses import (
    BatchAllTripletLoss,
    BatchHardTripletLoss,
    TripletBatch,
    TwoMarginContrastiveLoss,
)
from rtsim.training.samplers import NEIGHBOURHOODS, MPerClassSampler, NeighbourhoodSampler
from rtsim.training.tasks.notes import embed_phases, load_notes, split_keys

__all__ = ["TimbreTask", "timbre_task"]


def timbre_task(cfg, *, progress: bool = True):
    """The timbre task that ``[loss] mode`` names.

    ``clips`` learns from augmented one-shots of many sources
    (:class:`~rtsim.training.tasks.timbre_clips.TimbreClipsTask`); ``windows`` and
    ``trajectory`` from rendered notes (:class:`TimbreTask`).
    """
    if cfg.loss.mode == "clips":
        from rtsim.training.tasks.timbre_clips import TimbreClipsTask

        return TimbreClipsTask(cfg, progress=progress)
    return TimbreTask(cfg, progress=progress)


class TimbreTask:
    """Train the 3-D map on note windows; two modes (``[loss] mode``).

    ``windows`` (Humphrey): neighbourhood triplets of single windows, two-margin
    contrastive loss. ``trajectory``: m-per-program batches of notes, each seen through
    its windows at ``PHASES_S`` (its trajectory through the map, as notes are compared),
    triplet loss on programs plus ``family_weight`` times the same on families.
    ``mining`` picks the triplets of a batch: ``"batch_hard"`` (each note's farthest
    positive and nearest negative) or ``"batch_all"`` (every triplet, mean of the active
    ones; a family triplet's positive is a note of *another* program of the family, which
    is what the family-with-the-program-removed measure asks of the map).

    Config: ``[data] train`` (a notes corpus, or a list), ``[data] validation_fraction`` (by note,
    default 0.1); ``[loss] margin_pos, margin_neg, neighbourhoods, weights,
    phase_matched``. With ``phase_matched`` (the default) the three windows of a triplet
    sit at the same time after their notes' onsets: the map then only has to separate
    sounds at the same stage of a note, which a 3-D space can afford, and notes are
    compared by their trajectories.
    Validation score: the mean of the validation notes' 5-NN GM-program accuracy and
    their 5-NN family accuracy with the query's program removed (the two things the map
    is asked to do), both on trajectories.
    """

    def __init__(self, cfg, *, progress: bool = True) -> None:
        from rtsim.models.timbre import ARCH_KWARGS, SPEC

        self.spec = SPEC
        self.architecture = "rtsim.models.timbre.net:TimbreNet"
        self.arch_kwargs = {**ARCH_KWARGS, **cfg.kwargs}
        corpus = ensure_corpora(cfg.data["train"], progress=progress)
        frac = float(cfg.data.get("validation_fraction", 0.1))
        cache = cache_dir() / "features"
        self.train_notes = load_notes(corpus, spec=SPEC.frontend, cache=cache, progress=progress,
                                      subset=lambda k: ~split_keys(k, fraction=frac))
        self.val_notes = load_notes(corpus, spec=SPEC.frontend, cache=cache, progress=progress,
                                    subset=lambda k: split_keys(k, fraction=frac))
        loss = cfg.loss
        self.loss_fn = TwoMarginContrastiveLoss(margin_pos=loss.margin_pos,
                                                margin_neg=loss.margin_neg)
        self.sampler = NeighbourhoodSampler(
            self.train_notes.labels,
            neighbourhoods=list(NEIGHBOURHOODS if loss.neighbourhoods is None
                                else loss.neighbourhoods),
            weights=None if loss.weights is None else list(loss.weights), seed=cfg.train.seed)
        self.hop_s = SPEC.frontend.hop_length / SPEC.frontend.sr
        self.phase_matched = loss.phase_matched
        self.mode = loss.mode
        labels = self.train_notes.labels
        self._program_id = {p: i for i, p in enumerate(sorted({lab["program"] for lab in labels},
                                                              key=str))}
        self._family_id = {f: i for i, f in enumerate(sorted({lab["family"] for lab in labels}))}
        self.batches = MPerClassSampler([lab["program"] for lab in labels],
                                        m=loss.m, seed=cfg.train.seed)
        self.mining = loss.mining
        self.traj_loss = BatchHardTripletLoss(margin=loss.margin, metric="l2")
        self.all_loss = BatchAllTripletLoss(margin=loss.margin, metric="l2")
        self.family_weight = loss.family_weight

    def build_model(self) -> torch.nn.Module:
        """A fresh timbre network."""
        from rtsim.models.blocks import make_net
        from rtsim.models.timbre.net import TimbreNet

        return make_net(TimbreNet, self.arch_kwargs)

    def loss(self, model, batch: int, rng: np.random.Generator, device) -> torch.Tensor:
        """The loss of one batch (see the class notes)."""
        if self.mode == "trajectory":
            return self._trajectory_loss(model, batch, rng, device)
        return self._window_loss(model, batch, rng, device)

    def _trajectory_loss(self, model, batch: int, rng, device) -> torch.Tensor:
        notes = self.batches.batch(batch)
        w = self.train_notes.phase_windows(self.spec.window, self.hop_s, notes, jitter=1,
                                           rng=rng)
        z = model(torch.from_numpy(w.reshape(-1, *w.shape[2:])).to(device))
        desc = z.reshape(len(notes), -1)
        labels = self.train_notes.labels
        prog = torch.tensor([self._program_id[labels[n]["program"]] for n in notes])
        fam = torch.tensor([self._family_id[labels[n]["family"]] for n in notes])
        if self.mining == "batch_all":
            same_prog = (prog[:, None] == prog[None, :]).to(device)
            same_fam = (fam[:, None] == fam[None, :]).to(device)
            eye = torch.eye(len(notes), dtype=torch.bool, device=device)
            return self.all_loss(desc, same_prog & ~eye, ~same_prog) + self.family_weight * \
                self.all_loss(desc, same_fam & ~same_prog, ~same_fam)
        return self.traj_loss(desc, prog.to(device)) + \
            self.family_weight * self.traj_loss(desc, fam.to(device))

    def _window_loss(self, model, batch: int, rng, device) -> torch.Tensor:
        a, p, n, _ = self.sampler.sample(batch)
        w, notes = self.spec.window, self.train_notes
        ends = notes.random_ends(a, rng) if self.phase_matched else None
        x = np.concatenate([notes.sample_windows(ix, w, rng, ends) for ix in (a, p, n)])
        z = model(torch.from_numpy(x).to(device))
        return self.loss_fn(TripletBatch(*z.split(batch)))

    def validate(self, model, device) -> dict[str, float]:
        """Program and family 5-NN accuracy of validation trajectories."""
        desc = embed_phases(model, self.val_notes, window=self.spec.window, hop_s=self.hop_s,
                            device=device)
        programs = [lab["program"] for lab in self.val_notes.labels]
        families = [lab["family"] for lab in self.val_notes.labels]
        prog = knn_accuracy(desc, programs, k=5)
        fam = knn_accuracy(desc, families, k=5, exclude=programs)
        return {"score": (prog + fam) / 2, "program_acc": prog, "family_acc_other_programs": fam}
