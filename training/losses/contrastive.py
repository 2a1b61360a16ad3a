"""Humphrey's two-margin contrastive loss."""

from __future__ import annotations

import torch

from rtsim.training.losses.base import TripletBatch, distances

__all__ = ["TwoMarginContrastiveLoss"]


class TwoMarginContrastiveLoss(torch.nn.Module):
    """``max(0, Dp² - m_p) + max(0, m_n - Dn)²``, averaged over the batch.

    Dp and Dn are Euclidean distances from the anchor to the positive and the negative;
    positives are pulled inside ``sqrt(m_p)``, negatives pushed beyond ``m_n``.

    Parameters
    ----------
    margin_pos : float
        ``m_p`` (on the squared distance).
    margin_neg : float
        ``m_n`` (on the distance).
    """

    def __init__(self, margin_pos: float = 0.25, margin_neg: float = 2.0) -> None:
        super().__init__()
        self.margin_pos, self.margin_neg = margin_pos, margin_neg

    def forward(self, batch: TripletBatch) -> torch.Tensor:
        """The mean loss over the batch."""
        dp = distances(batch.anchor, batch.positive, "l2")
        dn = distances(batch.anchor, batch.negative, "l2")
        pos = (dp.pow(2) - self.margin_pos).clamp_min(0)
        neg = (self.margin_neg - dn).clamp_min(0).pow(2)
        return (pos + neg).mean()
