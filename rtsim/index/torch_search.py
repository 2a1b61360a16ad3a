"""Exact k-NN in torch: a library resident on the GPU (the same code runs on the CPU).

:class:`TorchSearcher` answers exactly what FAISS's exact index (``IndexFlat``) answers,
ids and distances, with the vectors on a torch device. A query is answered in two
passes, both on the device and free of host synchronisation (so a CUDA graph can hold
them, see :mod:`rtsim.engine.device_hop`):

1. every row is scored against the query with one matrix product over a copy of the
   library in ``precision`` (fp16 on CUDA: half the bytes to read, and the full scan is
   bound by memory bandwidth), accumulated and returned in fp32 where torch can
   (``torch.mm(..., out_dtype=torch.float32)``), so that scores are not rounded to fp16
   (about 5e-4 of a score, the spacing of tightly clustered neighbours in a 10^7-row
   library). That copy is centred on the library's mean, which changes
   no ranking (L2 is translation-invariant; an inner product shifts by the same
   ``<mean, q>`` for every row) but keeps fp16's relative precision for the differences
   between rows rather than for their common offset;
2. the ``candidates`` best rows are re-scored in fp32 from the exact copy, directly
   (``Σ (x - q)²`` for L2, ``<x, q>`` otherwise, as FAISS computes a single query) and
   the k best of them are returned, best first.

A true neighbour is missed only when rounding in the first pass pushes it below the
``candidates``-th row, which needs over ``candidates - k`` rows within that margin of it.
Libraries that would not fit in the device's free memory are refused with a message
naming the sizes (no sharding).
"""

from __future__ import annotations

import numpy as np
import torch

from rtsim.errors import LibraryError
from rtsim.index.faiss_index import prepare, reported_distances

__all__ = ["TorchSearcher", "PRECISIONS", "library_bytes"]

PRECISIONS = ("auto", "float16", "float32")
#: The device may be filled up to this fraction of its free memory.
MEMORY_FRACTION = 0.9


def library_bytes(n: int, dim: int, precision: str) -> int:
    """Device bytes a :class:`TorchSearcher` keeps for ``n`` vectors of ``dim``."""
    low = 2 if precision == "float16" else 0
    return n * dim * (4 + low) + 4 * n


class TorchSearcher:
    """Exact k-NN search with the library on a torch device.

    Same interface as :class:`~rtsim.index.faiss_index.Searcher` (``search``, ``count``,
    ``dim``, ``metric``), plus :meth:`search_tensor`, which stays on the device.

    Parameters
    ----------
    vectors : np.ndarray, shape (n, dim)
        The library's rows (as stored: unit length for cosine libraries).
    metric : {"l2", "cosine", "ip"}
    device : str or torch.device
    precision : {"auto", "float16", "float32"}
        Of the scoring pass; ``auto``: fp16 on CUDA, fp32 on the CPU.
    candidates : int
        Rows re-ranked in fp32 per query (at least ``4·k``).
    free_bytes : int, optional
        Device memory free for the library (default: what CUDA reports; unlimited on CPU).
    """

    def __init__(self, vectors: np.ndarray, *, metric: str, device: str | torch.device = "cpu",
                 precision: str = "auto", candidates: int = 128,
                 free_bytes: int | None = None) -> None:
        if precision not in PRECISIONS:
            raise LibraryError(f"precision={precision!r} must be one of {PRECISIONS}")
        self.device = torch.device(device)
        if precision == "auto":
            precision = "float16" if self.device.type == "cuda" else "float32"
        x = prepare(vectors, metric)
        n, dim = x.shape
        need = library_bytes(n, dim, precision)
        if free_bytes is None and self.device.type == "cuda":
            free_bytes = torch.cuda.mem_get_info(self.device)[0]
        if free_bytes is not None and need > MEMORY_FRACTION * free_bytes:
            raise LibraryError(
                f"a library of {n} x {dim} vectors needs {need / 2**30:.2f} GiB on {self.device} "
                f"(fp32{' + fp16' if precision == 'float16' else ''} copies), over "
                f"{MEMORY_FRACTION:.0%} of the {free_bytes / 2**30:.2f} GiB free there; search it "
                "on the CPU (--device cpu) or split it into smaller libraries")
        self.metric, self.precision, self.candidates = metric, precision, max(1, candidates)
        self.dim = dim
        self._exact = torch.from_numpy(x).to(self.device)
        self._mean = torch.from_numpy(x.mean(0, dtype=np.float64).astype(np.float32)).to(
            self.device)
        centred = self._exact - self._mean
        self._low = centred.half() if precision == "float16" else centred
        self._half_norm = 0.5 * (centred * centred).sum(1) if metric == "l2" else None
        del centred
        self._fp32_out = self._low.dtype == torch.float16 and _mm_fp32_out(self.device)

    @property
    def count(self) -> int:
        """Number of vectors."""
        return int(self._exact.shape[0])

    def vectors(self) -> np.ndarray:
        """The stored rows, float32, on the host."""
        return self._exact.cpu().numpy()

    def search_tensor(self, queries: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k nearest rows of each query, without leaving the device.

        Parameters
        ----------
        queries : torch.Tensor, shape (b, dim), float32, on :attr:`device`
            Prepared as the rows are (unit length for cosine).
        k : int
            At most :attr:`count`.

        Returns
        -------
        rows : torch.Tensor, shape (b, k), int64
        raw : torch.Tensor, shape (b, k), float32
            FAISS's convention: squared L2 distance, or inner product; best first.
        """
        c = min(self.count, max(self.candidates, 4 * k))
        if self._half_norm is not None:  # nearest: largest <x, q> - |x|²/2, all centred
            score = self._scan(queries - self._mean).float() - self._half_norm[:, None]
        else:
            score = self._scan(queries)  # (n, b)
        cand = score.topk(c, dim=0, sorted=False).indices.T  # (b, c)
        rows = self._exact[cand]  # (b, c, dim)
        if self.metric == "l2":
            diff = rows - queries[:, None, :]
            raw = (diff * diff).sum(-1)
            best = raw.topk(k, dim=1, largest=False)
        else:
            raw = (rows * queries[:, None, :]).sum(-1)
            best = raw.topk(k, dim=1, largest=True)
        return cand.gather(1, best.indices), best.values

    def _scan(self, queries: torch.Tensor) -> torch.Tensor:
        """First-pass scores of every row, shape (n, b)."""
        q = queries.to(self._low.dtype).T
        if self._fp32_out:
            return torch.mm(self._low, q, out_dtype=torch.float32)
        return self._low @ q

    def search(self, query: np.ndarray, k: int, *,
               unit: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Nearest neighbours of one query: ids, then distances ascending.

        As :meth:`Searcher.search <rtsim.index.faiss_index.Searcher.search>`.
        """
        q = prepare(np.asarray(query).reshape(1, -1), self.metric, unit=unit)
        if q.shape[1] != self.dim:
            raise LibraryError(f"query has dimension {q.shape[1]}, the index {self.dim}")
        k = min(k, self.count)
        if k < 1 or not np.isfinite(q).all():  # FAISS answers a NaN query with no labels
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        with torch.inference_mode():
            rows, raw = self.search_tensor(torch.from_numpy(q).to(self.device), k)
        return rows[0].cpu().numpy(), reported_distances(raw[0].cpu().numpy(), self.metric)


def _mm_fp32_out(device: torch.device) -> bool:
    """True when this torch multiplies fp16 matrices into fp32 on ``device``."""
    a = torch.ones((4, 8), dtype=torch.float16, device=device)
    try:
        return torch.mm(a, a.T, out_dtype=torch.float32).dtype == torch.float32
    except (TypeError, RuntimeError, NotImplementedError):
        return False
