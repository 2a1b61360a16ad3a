"""Humphrey's timbre network: CQT windows to a 3-D map.

Three convolutional layers and two fully connected ones, max-pooling by 2 in time after
the first two, tanh everywhere except the last (linear) layer.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TimbreNet"]


class TimbreNet(nn.Module):
    """``(batch, window, n_bins)`` log-CQT -> ``(batch, dim)`` coordinates.

    Parameters
    ----------
    window, n_bins : int
        Input frames and bins (8 × 192 by default: 400 ms at 20 Hz, 8 octaves).
    channels : tuple of int
        Filters of the three convolutions.
    hidden : int
        Width of the first fully connected layer.
    dim : int
        Output dimension (3: the map itself).
    """

    def __init__(self, *, window: int = 8, n_bins: int = 192,
                 channels: tuple[int, int, int] = (16, 32, 48), hidden: int = 128,
                 dim: int = 3) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=(3, 13), padding=(1, 0)), nn.Tanh(),
            nn.MaxPool2d((2, 2)),
            nn.Conv2d(c1, c2, kernel_size=(3, 9), padding=(1, 0)), nn.Tanh(),
            nn.MaxPool2d((2, 2)),
            nn.Conv2d(c2, c3, kernel_size=(window // 4, 5)), nn.Tanh(),
        )
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, 1, window, n_bins)).numel()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(n_flat, hidden), nn.Tanh(),
                                  nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of windows to coordinates."""
        return self.head(self.features(x.unsqueeze(1)))
