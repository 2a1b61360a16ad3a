"""Lee et al.'s masked triplet loss: a triplet loss inside one subspace per triplet."""

from __future__ import annotations

import torch

from rtsim.training.losses.base import TripletBatch

__all__ = ["MaskedTripletLoss"]


class MaskedTripletLoss(torch.nn.Module):
    """``max(0, ||m∘(a - p)|| - ||m∘(a - n)|| + margin)`` with a per-triplet mask ``m``.

    Each triplet states similarity along one dimension (genre, mood, ...); its mask
    selects that dimension's subspace, so each subspace learns one notion of similarity.
    Subspaces are L2-normalised on their own before the distance (as they are stored).

    Parameters
    ----------
    slices : list of (start, stop)
        The subspaces, indexed by the ``which`` argument of :meth:`forward`.
    margin : float
        Lee et al.: 0.1.
    """

    def __init__(self, slices: list[tuple[int, int]], margin: float = 0.1) -> None:
        super().__init__()
        self.slices, self.margin = list(slices), margin

    def forward(self, batch: TripletBatch, which: torch.Tensor) -> torch.Tensor:
        """The mean loss; ``which`` (batch,) gives each triplet's subspace index."""
        losses = []
        for k, (lo, hi) in enumerate(self.slices):
            sel = which == k
            if not bool(sel.any()):
                continue
            a, p, n = (torch.nn.functional.normalize(t[sel, lo:hi], dim=-1)
                       for t in (batch.anchor, batch.positive, batch.negative))
            dp = (a - p).pow(2).sum(-1).clamp_min(1e-12).sqrt()
            dn = (a - n).pow(2).sum(-1).clamp_min(1e-12).sqrt()
            losses.append((dp - dn + self.margin).clamp_min(0))
        return torch.cat(losses).mean() if losses else batch.anchor.sum() * 0
