"""Hashizume's per-stem network: a 3-s mel segment to a 128-d unit vector.

Four strided conv blocks (3×3 convolution with stride 2, batch norm, ReLU), global
average and max pooling over time and frequency, one fully connected layer, L2
normalisation. About 16 M multiply-adds per segment: small enough to train within the
CPU budget and to run on a live hop on one core.
"""

from __future__ import annotations

import torch
from torch import nn

from rtsim.models.blocks import mean_max_pool, strided_conv_stack

__all__ = ["StemNet"]


class StemNet(nn.Module):
    """``(batch, frames, n_mels)`` log-mel -> ``(batch, dim)`` unit vectors.

    Parameters
    ----------
    channels : tuple of int
        Filters of the conv blocks (each halves time and frequency).
    dim : int
        Embedding dimension (128).
    """

    unit_norm = True  # forward returns L2-normalised rows: the embedder does not redo it

    def __init__(self, *, channels: tuple[int, ...] = (16, 32, 64, 128), dim: int = 128) -> None:
        super().__init__()
        self.features = strided_conv_stack(channels)
        c_in = channels[-1]
        self.fc = nn.Linear(2 * c_in, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of segments."""
        h = self.features(x.transpose(1, 2).unsqueeze(1))  # (b, c, n_mels', frames')
        pooled = mean_max_pool(h)
        return nn.functional.normalize(self.fc(pooled), dim=-1)
