"""Inference backends: the same module run eagerly, as TorchScript, or through torch.compile.

``rtsim bench embed`` measures each one per embedder; the engine takes the one named in
the embedder's config (``backend = "eager" | "torchscript" | "compile"``).
"""

from __future__ import annotations

import logging

import torch

from rtsim.errors import EmbedderError

__all__ = ["BACKENDS", "prepare"]

log = logging.getLogger(__name__)

BACKENDS = ("eager", "torchscript", "compile")


def prepare(module: torch.nn.Module, backend: str, example: torch.Tensor):
    """``module`` (in eval mode, on the example's device) as a callable for ``backend``.

    ``example`` has the live input's shape, ``(1, window, n_bins)``: TorchScript traces
    with it and torch.compile specialises on it (its first call compiles).
    """
    if backend not in BACKENDS:
        raise EmbedderError(f"backend={backend!r} must be one of {BACKENDS}")
    if backend == "eager":
        return module
    with torch.inference_mode(False), torch.no_grad():
        if backend == "torchscript":
            traced = torch.jit.trace(module, example, check_trace=False)
            return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
        compiled = torch.compile(module, dynamic=False)
        compiled(example)  # compile now, not in the first live hop
        return compiled
