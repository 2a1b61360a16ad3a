"""Building blocks the shipped networks share."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["make_net", "strided_conv_stack", "mean_max_pool"]


def make_net(cls: type[nn.Module], arch_kwargs: dict, state=None) -> nn.Module:
    """``cls(**arch_kwargs)``, with ``state`` loaded when given.

    ``channels`` becomes a tuple (TOML and JSON give lists).
    """
    kw = dict(arch_kwargs)
    if "channels" in kw:
        kw["channels"] = tuple(kw["channels"])
    net = cls(**kw)
    if state is not None:
        net.load_state_dict(state)
    return net


def strided_conv_stack(channels: tuple[int, ...], c_in: int = 1) -> nn.Sequential:
    """3×3 stride-2 convolutions (no bias), batch norm and ReLU, one block per entry."""
    layers = []
    for c in channels:
        layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False),
                   nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        c_in = c
    return nn.Sequential(*layers)


def mean_max_pool(h: torch.Tensor) -> torch.Tensor:
    """``(b, c, h, w)`` -> ``(b, 2c)``: the mean and the max of each channel."""
    return torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
