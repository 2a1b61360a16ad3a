"""A nuisance adversary through gradient reversal (Ganin & Lempitsky 2015), class-conditional.

A small network tries to tell a nuisance label (which library, or *source*, a sound comes
from) from an embedding; between the embedding and that network a gradient reversal layer
is the identity going forward and multiplies the gradient by ``-weight`` going back. The
adversary learns to name the source; the embedder, through the reversal, learns to leave
no trace of it: neighbours across libraries rather than within one.

The adversary also sees the example's class (one-hot), as in conditional domain
adversarial training (Long et al. 2018): sources differ in which classes they hold (a
recorded drum kit has no strings), so an unconditional adversary could name the source
from the class alone, and reversing that would push classes together. Given the class,
only what the embedding says about the source *within* a class helps it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rtsim.errors import ConfigError

__all__ = ["ConditionalAdversary", "grad_reverse"]


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def grad_reverse(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``x`` going forward; the gradient times ``-scale`` going back."""
    return _Reverse.apply(x, float(scale))


class ConditionalAdversary(nn.Module):
    """Cross-entropy of a source classifier on (reversed embedding, class one-hot).

    Parameters
    ----------
    dim : int
        Embedding size.
    n_classes, n_sources : int
        Numbers of class labels and of sources (the adversary's outputs).
    weight : float
        The reversal's scale: how hard the embedder is pushed to hide the source.
    hidden : int
        Width of the adversary's hidden layer.
    """

    def __init__(self, dim: int, n_classes: int, n_sources: int, *, weight: float = 1.0,
                 hidden: int = 128) -> None:
        super().__init__()
        if n_sources < 2:
            raise ConfigError(f"a source adversary needs >= 2 sources, got {n_sources}")
        if not weight > 0:
            raise ConfigError(f"adversary weight={weight} must be > 0")
        self.n_classes, self.weight = int(n_classes), float(weight)
        self.net = nn.Sequential(nn.Linear(dim + n_classes, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_sources))

    def forward(self, z: torch.Tensor, classes: torch.Tensor,
                sources: torch.Tensor) -> torch.Tensor:
        """The adversary's cross-entropy on ``z`` (n, dim), ``classes`` and ``sources`` (n,)."""
        one_hot = F.one_hot(classes, self.n_classes).to(z.dtype)
        logits = self.net(torch.cat([grad_reverse(z, self.weight), one_hot], dim=1))
        return F.cross_entropy(logits, sources)
