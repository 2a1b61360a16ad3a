"""CUDA graphs: capture a fixed-shape device computation once, replay it every hop.

At batch 1 every stage of a hop is bound by kernel launches (tens of small kernels, each
a few microseconds to launch); a replayed graph launches them all at once. A
:class:`GraphedCall` owns static input buffers: each call copies its inputs into them,
replays, and returns the *static* outputs, which the next call overwrites (copy or
consume them first). When capture fails (an operation that synchronises, allocates
outside the graph's pool, or is not capturable) it warns once, naming the computation
and the reason, and runs the function eagerly from then on: slower, never wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch

__all__ = ["GraphedCall"]

log = logging.getLogger(__name__)

WARMUP_CALLS = 3  # cuBLAS/cuFFT plans and the caching allocator settle before capture


class GraphedCall:
    """``fn(*inputs)`` for inputs shaped like ``examples``, replayed from a CUDA graph.

    Parameters
    ----------
    fn : callable
        Tensors in, a tensor or a tuple of tensors out; device work only (no host
        synchronisation, no data-dependent shapes).
    examples : torch.Tensor
        Inputs of the shapes, dtypes and device every later call will pass.
    name : str
        For the fallback warning.
    """

    def __init__(self, fn: Callable, *examples: torch.Tensor, name: str) -> None:
        self.fn, self.name = fn, name
        self.static_in = [e.detach().clone() for e in examples]
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_out = None
        self.error: str | None = None
        if not all(e.is_cuda for e in examples):
            self.error = "inputs are not on a CUDA device"
            return
        try:
            side = torch.cuda.Stream(device=examples[0].device)
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(WARMUP_CALLS):
                    fn(*self.static_in)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self.static_out = fn(*self.static_in)
            graph.replay()  # a capture that recorded garbage fails here, not live
            torch.cuda.synchronize()
            self.graph = graph
        except Exception as exc:  # torch raises RuntimeError and its own capture errors
            self.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            self.static_out = None
            log.warning("%s: CUDA graph capture failed (%s); running it eagerly", name,
                        self.error)

    @property
    def captured(self) -> bool:
        """True when calls replay a graph (False: eager fallback)."""
        return self.graph is not None

    def __call__(self, *inputs: torch.Tensor):
        """Copy ``inputs`` into the static buffers and replay (or call ``fn`` eagerly)."""
        if self.graph is None:
            return self.fn(*inputs)
        with torch.inference_mode():  # the static buffers were made in inference mode
            for buf, x in zip(self.static_in, inputs, strict=True):
                buf.copy_(x, non_blocking=True)
            self.graph.replay()
        return self.static_out
