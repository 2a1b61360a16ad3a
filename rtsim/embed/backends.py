"""Inference backends: a module run eagerly, as TorchScript, compiled, or from a CUDA graph.

``rtsim bench embed`` measures each one per embedder; the engine takes the one named in
the embedder's config (``backend = "eager" | "torchscript" | "compile" | "cudagraph"``).
``cudagraph`` captures the live shape (batch 1) on CUDA and runs other shapes, and every
shape on the CPU, eagerly.
"""

from __future__ import annotations

import logging

import torch

from rtsim.errors import EmbedderError

__all__ = ["BACKENDS", "prepare", "GraphedModule"]

log = logging.getLogger(__name__)

BACKENDS = ("eager", "torchscript", "compile", "cudagraph")


def prepare(module: torch.nn.Module, backend: str, example: torch.Tensor):
    """``module`` (in eval mode, on the example's device) as a callable for ``backend``.

    ``example`` has the live input's shape, ``(1, window, n_bins)``: TorchScript traces
    with it and torch.compile specialises on it (its first call compiles).
    """
    if backend not in BACKENDS:
        raise EmbedderError(f"backend={backend!r} must be one of {BACKENDS}")
    if backend == "eager":
        return module
    if backend == "cudagraph":
        return GraphedModule(module, example)
    with torch.inference_mode(False), torch.no_grad():
        if backend == "torchscript":
            traced = torch.jit.trace(module, example, check_trace=False)
            return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
        compiled = torch.compile(module, dynamic=False)
        compiled(example)  # compile now, not in the first live hop
        return compiled


class GraphedModule:
    """``module`` replayed from a CUDA graph at the example's shape, eager otherwise.

    The output of a replay is the graph's static buffer: consume it (``.cpu()``, a copy)
    before the next call.
    """

    def __init__(self, module: torch.nn.Module, example: torch.Tensor) -> None:
        from rtsim.features.graphs import GraphedCall

        self.module = module
        if not example.is_cuda:
            log.warning("backend='cudagraph' needs a CUDA device; %s runs eagerly on %s",
                        type(module).__name__, example.device)
        with torch.inference_mode():
            self.graph = GraphedCall(module, example, name=type(module).__name__)
        self.shape = tuple(example.shape)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The module's output for ``x`` (replayed when ``x`` has the captured shape)."""
        if self.graph.captured and tuple(x.shape) == self.shape:
            return self.graph(x)
        return self.module(x)
