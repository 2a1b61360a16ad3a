"""Lee et al.'s disentangled network: a 3-s mel segment to four 64-d subspaces.

A 5×5 convolution (stride 2) with 2×2 max-pooling, six Inception blocks (1×1, 3×3 and
5×5 branches — the 5×5 as two 3×3 — plus a pooled projection, concatenated; max-pooling
after the first and third), global average pooling and a linear layer to 256 dimensions.
Each 64-d subspace (genre, mood, instrument, tempo) is L2-normalised on its own, as the
library stores it. Channels are scaled down from the paper so that the model trains in
the CPU budget and runs on a live hop on one core.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Inception", "DisentangledNet"]


def _conv(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Inception(nn.Module):
    """Four parallel branches concatenated to ``c_out`` channels."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        b1, b3, b5 = c_out // 4, c_out // 2, c_out // 8
        bp = c_out - b1 - b3 - b5
        self.b1 = _conv(c_in, b1, 1)
        self.b3 = nn.Sequential(_conv(c_in, b3 // 2, 1), _conv(b3 // 2, b3, 3))
        self.b5 = nn.Sequential(_conv(c_in, b5, 1), _conv(b5, b5, 3), _conv(b5, b5, 3))
        self.bp = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), _conv(c_in, bp, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenate the branches."""
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)


class DisentangledNet(nn.Module):
    """``(batch, frames, n_mels)`` log-mel -> ``(batch, 256)``, four unit 64-d subspaces.

    Parameters
    ----------
    stem : int
        Filters of the 5×5 convolution.
    channels : tuple of int
        Output channels of the six Inception blocks.
    n_subspaces, subspace_dim : int
    mean, std : float
        Input z-scoring (Lee et al.: 0.2 and 0.25).
    """

    def __init__(self, *, stem: int = 32, channels: tuple[int, ...] = (32, 48, 48, 64, 64, 96),
                 n_subspaces: int = 4, subspace_dim: int = 64, mean: float = 0.2,
                 std: float = 0.25) -> None:
        super().__init__()
        self.mean, self.std = mean, std
        self.n_subspaces, self.subspace_dim = n_subspaces, subspace_dim
        layers: list[nn.Module] = [nn.Conv2d(1, stem, 5, stride=2, padding=2, bias=False),
                                   nn.BatchNorm2d(stem), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        c_in = stem
        for i, c in enumerate(channels):
            layers.append(Inception(c_in, c))
            if i in (0, 2):
                layers.append(nn.MaxPool2d(2))
            c_in = c
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, n_subspaces * subspace_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of segments."""
        x = ((x - self.mean) / self.std).transpose(1, 2).unsqueeze(1)
        z = self.fc(self.features(x).mean(dim=(2, 3)))
        z = z.view(z.shape[0], self.n_subspaces, self.subspace_dim)
        return nn.functional.normalize(z, dim=-1).flatten(1)
