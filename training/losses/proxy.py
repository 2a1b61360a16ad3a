"""Normalised softmax over learned class proxies.

Zhai & Wu, "Classification is a Strong Baseline for Deep Metric Learning" (BMVC 2019).
Each class has a learned unit vector, its proxy; an embedding's logits are its cosine to
every proxy over a temperature, and the loss is their cross-entropy against its class.
Where a pair loss (SupCon) only compares the sounds a batch happens to hold, a proxy is
compared with every sound of its class, step after step: a global anchor per class,
which is what k-nearest-neighbour classification across libraries rewards.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rtsim.errors import ConfigError

__all__ = ["ProxySoftmaxLoss", "proxy_softmax_loss"]


def proxy_softmax_loss(z: torch.Tensor, proxies: torch.Tensor, labels: torch.Tensor, *,
                       temperature: float = 0.05) -> torch.Tensor:
    """Cross-entropy of ``cos(z, proxies) / temperature`` against ``labels``.

    Parameters
    ----------
    z : torch.Tensor
        (n, dim) embeddings (normalised here).
    proxies : torch.Tensor
        (n_classes, dim) class proxies (normalised here).
    labels : torch.Tensor
        (n,) class indices into ``proxies``.
    """
    logits = F.normalize(z, dim=1) @ F.normalize(proxies, dim=1).T
    return F.cross_entropy(logits / temperature, labels)


class ProxySoftmaxLoss(nn.Module):
    """:func:`proxy_softmax_loss` with the proxies as parameters (a training device only).

    Parameters
    ----------
    dim : int
        Embedding size.
    n_classes : int
        Number of classes (one proxy each).
    temperature : float
        Zhai & Wu's 0.05 by default.
    seed : int
        Seeds the proxies' random initialisation (unit Gaussian directions).
    """

    def __init__(self, dim: int, n_classes: int, *, temperature: float = 0.05,
                 seed: int = 0) -> None:
        super().__init__()
        if n_classes < 2:
            raise ConfigError(f"a proxy loss needs >= 2 classes, got {n_classes}")
        if not temperature > 0:
            raise ConfigError(f"proxy temperature={temperature} must be > 0")
        gen = torch.Generator().manual_seed(int(seed))
        self.proxies = nn.Parameter(F.normalize(torch.randn(n_classes, dim, generator=gen), dim=1))
        self.temperature = float(temperature)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The loss of embeddings ``z`` (n, dim) of classes ``labels`` (n,)."""
        return proxy_softmax_loss(z, self.proxies, labels, temperature=self.temperature)
