"""The ``sample`` network: 0.74 s of log-mel frames to a 128-d unit vector.

Level is taken out first (each window's frames minus its loudest bin, so a sample played
12 dB quieter is the same input above the floor); then four strided 3×3 convolution
blocks (batch norm, ReLU), mean and max pooling over time and frequency, two fully
connected layers and L2 normalisation. About 6 M multiply-adds per window: well inside a
live hop on one core.
"""

from __future__ import annotations

import torch
from torch import nn

from rtsim.models.blocks import mean_max_pool, strided_conv_stack

__all__ = ["SampleNet"]


class SampleNet(nn.Module):
    """``(batch, frames, n_mels)`` log-mel -> ``(batch, dim)`` unit vectors.

    Parameters
    ----------
    channels : tuple of int
        Filters of the conv blocks (each halves time and frequency).
    hidden : int
        Width of the first fully connected layer.
    dim : int
        Embedding dimension.
    floor : float
        Frames more than ``floor`` (log10 units) below the window's peak are clipped to it.
    """

    unit_norm = True  # forward returns L2-normalised rows: the embedder does not redo it

    def __init__(self, *, channels: tuple[int, ...] = (24, 48, 96, 128), hidden: int = 256,
                 dim: int = 128, floor: float = 6.0) -> None:
        super().__init__()
        self.features = strided_conv_stack(channels)
        c_in = channels[-1]
        self.head = nn.Sequential(nn.Linear(2 * c_in, hidden), nn.ReLU(inplace=True),
                                  nn.Linear(hidden, dim))
        self.floor = floor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of windows."""
        peak = x.amax(dim=(1, 2), keepdim=True)
        x = (x - peak).clamp_min(-self.floor) / self.floor + 0.5
        h = self.features(x.transpose(1, 2).unsqueeze(1))  # (b, c, n_mels', frames')
        pooled = mean_max_pool(h)
        return nn.functional.normalize(self.head(pooled), dim=-1)
