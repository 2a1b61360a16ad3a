"""A moving average of a model's weights, the model that is validated and kept.

Averaging the weights a run passes through (Polyak & Juditsky; Izmailov et al.'s SWA)
lands in a flatter region of the loss than the last iterate, and flat minima are what
carries over to data of another source (Cha et al., SWAD: domain generalisation by
dense weight averaging). :class:`WeightAverage` keeps an exponential moving average of
every floating-point tensor of the state (parameters and batch-norm statistics, so the
average needs no pass over data to re-estimate them) and copies the integer buffers. It
is bias-corrected as Adam's moments are: after ``n`` updates it is the mean of the ``n``
states seen, weighted ``decay ** age`` and normalised, so the initial weights never
count and an early validation sees the weights of its own steps (the ``n``-th update's
rate is ``1 - (1 - decay) / (1 - decay ** n)``: 0 at the first, which copies the model,
then towards ``decay``). Its horizon is ``1 / (1 - decay)`` steps.

``[train] ema = DECAY`` turns it on (0, the default, is off).
"""

from __future__ import annotations

import copy

import torch

__all__ = ["WeightAverage"]


class WeightAverage:
    """An exponential moving average of ``model``'s state, held in a copy of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model; the copy starts from its current weights.
    decay : float
        In ``(0, 1)``: the weight of the average at each update once warmed up.
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay={decay} must lie in (0, 1)")
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def rate(self) -> float:
        """The decay of the next update (bias-corrected: 0 at the first)."""
        n = self.updates + 1
        return 1.0 - (1.0 - self.decay) / (1.0 - self.decay ** n)

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Fold ``model``'s current state into the average."""
        d = self.rate()
        mine, theirs = self.model.state_dict(), model.state_dict()
        for key, avg in mine.items():
            new = theirs[key].detach()
            if avg.dtype.is_floating_point:
                avg.mul_(d).add_(new, alpha=1.0 - d)
            else:
                avg.copy_(new)
        self.updates += 1
