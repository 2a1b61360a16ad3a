"""One pipeline's device work per hop: window -> model -> query -> exact search, one copy back.

When the library is searched on the embedder's device (a
:class:`~rtsim.index.torch_search.TorchSearcher`, e.g. on CUDA), a window never leaves
the device between the model and the search: the query's edits (pinned subspaces,
subspace weights) are applied there from small static buffers, and one device -> host
copy (into pinned memory) brings back the embedding, the candidate rows and their raw
scores together. With ``graphs=True`` (backend ``cudagraph``) the whole of it is one
CUDA graph replay, captured once per number of rows asked for (at warm-up, and again
when ``k`` changes).

The host keeps what is cheap and data-dependent: rows -> distinct items, distances as
reported, the stability hold and the 3-D projection.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rtsim.embed import Embedder
from rtsim.index.torch_search import TorchSearcher

__all__ = ["DeviceHop", "device_hop_for"]


def device_hop_for(embedder: Embedder, searcher, *, graphs: bool) -> DeviceHop | None:
    """A :class:`DeviceHop` when ``searcher`` is a torch search on the embedder's device."""
    if isinstance(searcher, TorchSearcher) and searcher.device == embedder.device:
        return DeviceHop(embedder, searcher, graphs=graphs)
    return None


class DeviceHop:
    """Embed one window and search it on the device.

    Parameters
    ----------
    embedder : Embedder
    searcher : TorchSearcher
        On the embedder's device.
    graphs : bool
        Replay from a CUDA graph (CUDA only; falls back to eager with a warning).
    """

    def __init__(self, embedder: Embedder, searcher: TorchSearcher, *, graphs: bool) -> None:
        spec = embedder.spec
        dev = embedder.device
        self.embedder, self.searcher, self.device = embedder, searcher, dev
        self.graphs = graphs and dev.type == "cuda"
        self.dim, self.window, self.n_bins = spec.dim, spec.window, spec.n_bins
        self.normalise = embedder.normalises  # cosine output the model leaves unnormalised
        self.scale = torch.ones(spec.dim, device=dev)
        self.pin_mask = torch.zeros(spec.dim, dtype=torch.bool, device=dev)
        self.pin_ref = torch.zeros(spec.dim, device=dev)
        self._calls: dict[int, Callable] = {}
        self._host: dict[int, torch.Tensor] = {}
        self._done = torch.cuda.Event() if dev.type == "cuda" else None

    @property
    def captured(self) -> bool:
        """True when every prepared call replays a CUDA graph."""
        return bool(self._calls) and all(getattr(c, "captured", False)
                                         for c in self._calls.values())

    def set_query(self, scale: np.ndarray | None, pins: dict[tuple[int, int], np.ndarray]) -> None:
        """Subspace weights as per-dimension factors (None: all 1) and pinned slices.

        ``pins`` maps ``(lo, hi)`` to the values that replace the live embedding's
        ``[lo, hi)`` in every query. Call between hops.
        """
        s = np.ones(self.dim, np.float32) if scale is None else np.asarray(scale, np.float32)
        mask, ref = np.zeros(self.dim, bool), np.zeros(self.dim, np.float32)
        for (lo, hi), values in pins.items():
            mask[lo:hi], ref[lo:hi] = True, values
        self.scale.copy_(torch.from_numpy(s))
        self.pin_mask.copy_(torch.from_numpy(mask))
        self.pin_ref.copy_(torch.from_numpy(ref))

    def prepare(self, m: int) -> None:
        """Build (and on CUDA with graphs, capture) the call that returns ``m`` rows."""
        if m in self._calls:
            return
        example = torch.zeros((1, self.window, self.n_bins), device=self.device)

        def work(x: torch.Tensor) -> torch.Tensor:
            return self._work(x, m)

        if self.graphs:
            from rtsim.features.graphs import GraphedCall

            with torch.inference_mode():
                call = GraphedCall(work, example, name=f"{self.embedder.spec.name} hop")
        else:
            call = work
        self._calls[m] = call
        host = torch.zeros(self.dim + 2 * m, dtype=torch.float64)
        self._host[m] = host.pin_memory() if self.device.type == "cuda" else host

    def _work(self, x: torch.Tensor, m: int) -> torch.Tensor:
        """Packed ``[vector (dim), raw scores (m), rows (m)]`` as float64 (exact for rows)."""
        v = self.embedder.infer(x)
        if self.normalise:
            v = torch.nn.functional.normalize(v, dim=-1)
        q = torch.where(self.pin_mask, self.pin_ref, v) * self.scale
        if self.searcher.metric == "cosine":  # a pinned query is not unit (one op in a graph)
            q = torch.nn.functional.normalize(q, dim=-1)
        rows, raw = self.searcher.search_tensor(q, m)
        return torch.cat([v[0].double(), raw[0].double(), rows[0].double()])

    def __call__(self, window, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Embed ``window`` (shape (window, n_bins)) and find its ``m`` best rows.

        Returns
        -------
        vector : np.ndarray, shape (dim,), float32
        rows : np.ndarray, shape (m,), int64, best first
        raw : np.ndarray, shape (m,), float32
            Squared L2 distances or inner products (FAISS's convention).
        """
        self.prepare(m)
        x = torch.as_tensor(window, dtype=torch.float32, device=self.device)[None]
        host = self._host[m]
        with torch.inference_mode():
            host.copy_(self._calls[m](x), non_blocking=True)
            if self._done is not None:
                self._done.record()
                self._done.synchronize()
        h = host.numpy()
        d = self.dim
        return (h[:d].astype(np.float32), h[d + m :].astype(np.int64),
                h[d : d + m].astype(np.float32))
