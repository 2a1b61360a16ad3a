"""Batch-all triplet losses: every valid triplet of a batch, given who is similar to whom.

Similarity here is a relation, not a label (two pieces are similar in tempo when their
tempi are within 5 BPM; in instrumentation when they share an instrument), so the caller
passes two boolean matrices: ``positive[i, j]`` (j may be i's positive) and
``negative[i, k]`` (k may be i's negative). The loss is the mean of
``max(0, d(i, j) - d(i, k) + margin)`` over the triplets where it is non-zero (Hermans et
al.'s "batch all"), so easy triplets do not dilute the hard ones as training goes on.
"""

from __future__ import annotations

import torch

from rtsim.errors import ConfigError
from rtsim.training.losses.base import pairwise_distances

__all__ = ["BatchAllTripletLoss", "MaskedBatchAllTripletLoss", "batch_all_triplet_loss"]


def batch_all_triplet_loss(d: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
                           margin: float) -> tuple[torch.Tensor, int]:
    """Sum of the active triplet losses and how many are active.

    ``d`` (n, n) distances; ``positive`` and ``negative`` (n, n) boolean masks. A triplet
    (i, j, k) is valid when ``positive[i, j] and negative[i, k]`` and active when its loss
    is above zero.
    """
    if d.shape != positive.shape or d.shape != negative.shape or d.dim() != 2:
        raise ConfigError(f"distances {tuple(d.shape)} and masks {tuple(positive.shape)}, "
                          f"{tuple(negative.shape)} must share one (n, n) shape")
    loss = (d[:, :, None] - d[:, None, :] + margin).clamp_min(0)
    valid = positive[:, :, None] & negative[:, None, :]
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    return loss.sum(), int((loss > 0).sum())


class BatchAllTripletLoss(torch.nn.Module):
    """Mean of the active triplets of one batch (see the module notes).

    Parameters
    ----------
    margin : float
    metric : {"l2", "cosine"}
    """

    def __init__(self, margin: float = 0.1, metric: str = "l2") -> None:
        super().__init__()
        self.margin, self.metric = margin, metric

    def forward(self, emb: torch.Tensor, positive: torch.Tensor,
                negative: torch.Tensor) -> torch.Tensor:
        """Mean active loss; ``emb`` (n, dim), masks (n, n)."""
        total, active = batch_all_triplet_loss(pairwise_distances(emb, self.metric),
                                               positive, negative, self.margin)
        return total / max(active, 1)


class MaskedBatchAllTripletLoss(torch.nn.Module):
    """Lee et al.'s masked triplet loss with every valid triplet of the batch per subspace.

    Subspace ``k`` (``slices[k]``, L2-normalised on its own as it is stored) sees the
    triplets of ``positive[k]`` and ``negative[k]``; the loss is the mean of the subspaces'
    mean active losses (subspaces with no active triplet count as zero).

    Parameters
    ----------
    slices : list of (start, stop)
    margin : float
        Lee et al.: 0.1.
    """

    def __init__(self, slices: list[tuple[int, int]], margin: float = 0.1) -> None:
        super().__init__()
        self.slices, self.margin = list(slices), margin

    def forward(self, emb: torch.Tensor, positive: torch.Tensor,
                negative: torch.Tensor) -> torch.Tensor:
        """``emb`` (n, dim); ``positive`` and ``negative`` (subspaces, n, n)."""
        if positive.shape[0] != len(self.slices) or negative.shape[0] != len(self.slices):
            raise ConfigError(f"need one mask per subspace ({len(self.slices)}), got "
                              f"{positive.shape[0]} and {negative.shape[0]}")
        out = []
        for k, (lo, hi) in enumerate(self.slices):
            z = torch.nn.functional.normalize(emb[:, lo:hi], dim=-1)
            total, active = batch_all_triplet_loss(pairwise_distances(z, "l2"), positive[k],
                                                   negative[k], self.margin)
            out.append(total / max(active, 1))
        return torch.stack(out).mean()
