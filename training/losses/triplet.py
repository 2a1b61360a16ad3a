"""The triplet margin loss (L2 or cosine distance)."""

from __future__ import annotations

import torch

from rtsim.training.losses.base import TripletBatch, distances

__all__ = ["TripletMarginLoss"]


class TripletMarginLoss(torch.nn.Module):
    """``max(0, d(a, p) - d(a, n) + margin)``, averaged over the batch.

    Parameters
    ----------
    margin : float
        Hashizume: 0.2 with the cosine distance.
    metric : {"cosine", "l2"}
    """

    def __init__(self, margin: float = 0.2, metric: str = "cosine") -> None:
        super().__init__()
        distances(torch.zeros(1, 1), torch.zeros(1, 1), metric)  # validates the metric
        self.margin, self.metric = margin, metric

    def forward(self, batch: TripletBatch) -> torch.Tensor:
        """The mean loss over the batch."""
        dp = distances(batch.anchor, batch.positive, self.metric)
        dn = distances(batch.anchor, batch.negative, self.metric)
        return (dp - dn + self.margin).clamp_min(0).mean()
