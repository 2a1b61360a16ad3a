"""Least-squares GAN losses for ALI's two players (Mao et al.; song2vec's objectives).

The discriminator ``D(x, z)`` has a linear output. With song2vec's labels (Ross &
Ramakrishnan, after swapping them for the generator as Dumoulin et al. suggest), the
discriminator pushes encoder pairs ``(x, G_z(x))`` to 0 and decoder pairs ``(G_x(z), z)``
to the positive target (1, or a smoothed value in 0.7–0.9); the encoder and decoder
push the other way: encoder pairs to 1 and decoder pairs to 0.
"""

from __future__ import annotations

import torch

__all__ = ["lsgan_discriminator_loss", "lsgan_generator_loss"]


def lsgan_discriminator_loss(d_encoder: torch.Tensor, d_decoder: torch.Tensor,
                             target: torch.Tensor | float = 1.0) -> torch.Tensor:
    """``mean(D(x, G_z(x))²) / 2 + mean((D(G_x(z), z) − target)²) / 2``.

    Parameters
    ----------
    d_encoder, d_decoder : torch.Tensor, shape (batch,)
        Scores of encoder pairs and of decoder pairs.
    target : torch.Tensor of shape (batch,) or float
        The decoder pairs' (positive) target; one-sided label smoothing draws it per pair.
    """
    return 0.5 * (d_encoder.pow(2).mean() + (d_decoder - target).pow(2).mean())


def lsgan_generator_loss(d_encoder: torch.Tensor, d_decoder: torch.Tensor) -> torch.Tensor:
    """``mean((D(x, G_z(x)) − 1)²) / 2 + mean(D(G_x(z), z)²) / 2`` (labels swapped)."""
    return 0.5 * ((d_encoder - 1).pow(2).mean() + d_decoder.pow(2).mean())
