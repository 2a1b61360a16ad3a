"""What every loss takes: embeddings of anchors, positives and negatives."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rtsim.errors import ConfigError

__all__ = ["TripletBatch", "distances", "pairwise_distances"]


@dataclass(frozen=True)
class TripletBatch:
    """Embeddings of a batch of triplets, each of shape (batch, dim)."""

    anchor: torch.Tensor
    positive: torch.Tensor
    negative: torch.Tensor

    def __post_init__(self) -> None:
        shapes = {self.anchor.shape, self.positive.shape, self.negative.shape}
        if len(shapes) != 1 or self.anchor.dim() != 2:
            raise ConfigError(f"triplet embeddings must share one (batch, dim) shape, got "
                              f"{[tuple(s) for s in shapes]}")


def distances(a: torch.Tensor, b: torch.Tensor, metric: str) -> torch.Tensor:
    """Row-wise distance, shape (batch,): ``l2`` Euclidean, ``cosine`` 1 - cos."""
    if metric == "l2":
        return (a - b).pow(2).sum(-1).clamp_min(1e-12).sqrt()
    if metric == "cosine":
        return 1 - torch.nn.functional.cosine_similarity(a, b, dim=-1)
    raise ConfigError(f"metric={metric!r} must be 'l2' or 'cosine'")


def pairwise_distances(x: torch.Tensor, metric: str) -> torch.Tensor:
    """All pairwise distances of a batch, shape (n, n)."""
    if metric == "l2":
        sq = (x * x).sum(1)
        return (sq[:, None] + sq[None, :] - 2 * x @ x.T).clamp_min(1e-12).sqrt()
    if metric == "cosine":
        xn = torch.nn.functional.normalize(x, dim=1)
        return 1 - xn @ xn.T
    raise ConfigError(f"metric={metric!r} must be 'l2' or 'cosine'")
