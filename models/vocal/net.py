"""Kumar et al.'s vocal similarity network: a genre classifier, penultimate layer as embedding.

A 3-s segment (mel or constant-Q frames) goes through four strided conv blocks, mean
and max pooling, and one fully connected layer: its output, L2-normalised, is the
embedding. Training adds ReLU, dropout and a linear genre head on top
(:meth:`VocalNet.logits`, cross-entropy); the head is not part of the embedding.

The harmonic input (``harmonics``) stacks the constant-Q frames shifted by each
harmonic's interval as channels (Bittner et al.'s harmonic CQT), so that a filter sees
a partial and its harmonics at one place: a pitch-salience representation.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rtsim.models.blocks import mean_max_pool, strided_conv_stack

__all__ = ["VocalNet", "harmonic_shifts", "harmonic_stack"]


def harmonic_shifts(harmonics: tuple[float, ...], bins_per_octave: int) -> list[int]:
    """Bins between the fundamental and each harmonic (0.5 is an octave down)."""
    return [round(bins_per_octave * math.log2(h)) for h in harmonics]


def harmonic_stack(x: torch.Tensor, shifts: list[int]) -> torch.Tensor:
    """``(b, frames, bins)`` -> ``(b, len(shifts), bins, frames)``, one channel per shift.

    Channel ``k`` at bin ``f`` holds bin ``f + shifts[k]`` (zero outside the transform).
    """
    lo, hi = max(0, -min(shifts)), max(0, max(shifts))
    n = x.shape[-1]
    padded = nn.functional.pad(x.transpose(1, 2), (0, 0, lo, hi))  # (b, bins + lo + hi, t)
    return torch.stack([padded[:, lo + s:lo + s + n] for s in shifts], dim=1)


class VocalNet(nn.Module):
    """``(batch, frames, bins)`` -> ``(batch, dim)`` unit vectors; a genre head for training.

    Parameters
    ----------
    channels : tuple of int
        Filters of the conv blocks (each halves time and frequency).
    dim : int
        Embedding dimension (the penultimate layer's width).
    n_classes : int
        Genres the training head tells apart.
    harmonics : tuple of float
        Harmonic-CQT input: the harmonics stacked as channels (empty: one channel).
    bins_per_octave : int
        Of the constant-Q input (for the harmonic shifts).
    dropout : float
        Before the head, in training.
    """

    unit_norm = True  # forward returns L2-normalised rows: the embedder does not redo it

    def __init__(self, *, channels: tuple[int, ...] = (16, 32, 64, 128), dim: int = 128,
                 n_classes: int = 6, harmonics: tuple[float, ...] = (),
                 bins_per_octave: int = 24, dropout: float = 0.3) -> None:
        super().__init__()
        self.shifts = harmonic_shifts(tuple(harmonics), bins_per_octave) if harmonics else []
        self.features = strided_conv_stack(channels, c_in=max(1, len(self.shifts)))
        self.fc = nn.Linear(2 * channels[-1], dim)
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, n_classes))

    def penultimate(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer's output (before its ReLU), unnormalised."""
        h = (harmonic_stack(x, self.shifts) if self.shifts
             else x.transpose(1, 2).unsqueeze(1))  # (b, c, bins, frames)
        return self.fc(mean_max_pool(self.features(h)))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Genre logits (training)."""
        return self.head(self.penultimate(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of segments (unit vectors)."""
        return nn.functional.normalize(self.penultimate(x), dim=-1)
