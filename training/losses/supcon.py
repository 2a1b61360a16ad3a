"""Supervised contrastive loss (Khosla et al. 2020, the ``L_out`` form).

Every example of a batch is an anchor; its positives are the other examples with the
same label (two augmented views of one sound always share it), every other example is in
the denominator:

    L = mean over anchors i with positives of
        -1/|P(i)| · Σ_{p ∈ P(i)} log( exp(z_i·z_p / τ) / Σ_{a ≠ i} exp(z_i·z_a / τ) )

Embeddings are unit vectors (cosine similarity); ``τ`` is the temperature.
"""

from __future__ import annotations

import torch

from rtsim.errors import ConfigError

__all__ = ["SupConLoss", "supcon_loss"]


def supcon_loss(z: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """Khosla et al.'s ``L_out`` for unit vectors ``z`` (n, dim) and integer ``labels`` (n,)."""
    if z.dim() != 2 or labels.shape != z.shape[:1]:
        raise ConfigError(f"embeddings {tuple(z.shape)} and labels {tuple(labels.shape)} "
                          "must be (n, dim) and (n,)")
    if not temperature > 0:
        raise ConfigError(f"temperature={temperature} must be > 0")
    n = z.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = (z @ z.T / temperature).masked_fill(eye, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    n_pos = pos.sum(1)
    has = n_pos > 0
    if not has.any():
        return z.sum() * 0.0
    per_anchor = torch.where(pos, log_prob, torch.zeros_like(log_prob)).sum(1)
    return -(per_anchor[has] / n_pos[has]).mean()


class SupConLoss(torch.nn.Module):
    """:func:`supcon_loss` as a module.

    Parameters
    ----------
    temperature : float
        0.1 is Khosla et al.'s choice for small batches.
    """

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean loss over the anchors that have a positive."""
        return supcon_loss(z, labels, self.temperature)
