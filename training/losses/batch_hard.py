"""Batch-hard triplet loss: each anchor against its hardest positive and negative."""

from __future__ import annotations

import torch

from rtsim.training.losses.base import pairwise_distances

__all__ = ["BatchHardTripletLoss"]


class BatchHardTripletLoss(torch.nn.Module):
    """``max(0, max_p d(a, p) - min_n d(a, n) + margin)`` over a labelled batch.

    For every example, the farthest example with its label and the nearest with another
    label (Hermans et al.'s batch-hard mining, as in an m-per-class batch). Anchors
    without a positive or a negative in the batch are left out.

    Parameters
    ----------
    margin : float
    metric : {"l2", "cosine"}
    """

    def __init__(self, margin: float = 0.5, metric: str = "l2") -> None:
        super().__init__()
        self.margin, self.metric = margin, metric

    def forward(self, emb: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean loss; ``emb`` (n, dim), ``labels`` (n,)."""
        d = pairwise_distances(emb, self.metric)
        same = labels[:, None] == labels[None, :]
        eye = torch.eye(len(emb), dtype=torch.bool, device=emb.device)
        pos_mask, neg_mask = same & ~eye, ~same
        valid = pos_mask.any(1) & neg_mask.any(1)
        hardest_pos = torch.where(pos_mask, d, torch.full_like(d, -torch.inf)).amax(1)
        hardest_neg = torch.where(neg_mask, d, torch.full_like(d, torch.inf)).amin(1)
        loss = (hardest_pos - hardest_neg + self.margin).clamp_min(0)
        return loss[valid].mean() if bool(valid.any()) else emb.sum() * 0
