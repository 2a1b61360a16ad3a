"""FAISS indexes for libraries: choice by size and metric, search with distances.

Distances are reported so that smaller is closer, whatever the metric:

- ``l2``: Euclidean distance (FAISS returns its square);
- ``cosine``: ``1 - cos`` (vectors are L2-normalised and searched by inner product);
- ``ip``: ``-<q, x>``.

FAISS returns label -1 when it finds fewer than k neighbours (or for a NaN query);
:meth:`Searcher.search` drops those, so a -1 can never reach a publisher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np

from rtsim.errors import ConfigError, LibraryError

__all__ = ["IndexSpec", "build_index", "Searcher", "index_kind", "stored_vectors",
           "reported_distances", "gpu_available", "gpu_flat_index"]

KINDS = ("auto", "flat", "hnsw", "ivf", "ivfpq")


@dataclass(frozen=True)
class IndexSpec:
    """How a library's index is built.

    Parameters
    ----------
    kind : {"auto", "flat", "hnsw", "ivf", "ivfpq"}
        ``auto``: exact (flat) up to ``exact_max`` vectors, HNSW above. ``ivfpq``: IVF
        (HNSW coarse quantizer) over 4-bit fast-scan codes, one per dimension, with the
        ``refine``·k best re-ranked exactly (FAISS ``IVFn_HNSW32,PQdx4fs,RFlat``).
    exact_max : int
    hnsw_m, ef_construction, ef_search : int
        HNSW graph degree and beam widths.
    nlist : int or None
        IVF cells (default ``4·sqrt(n)``).
    nprobe : int
        IVF cells visited per query.
    refine : int
        ``ivfpq``: candidates re-ranked exactly, per result.
    """

    kind: str = "auto"
    exact_max: int = 50_000
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 64
    nlist: int | None = None
    nprobe: int = 16
    refine: int = 64

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"index kind={self.kind!r} must be one of {KINDS}")
        for key in ("exact_max", "hnsw_m", "ef_construction", "ef_search", "nprobe",
                    "refine"):
            if getattr(self, key) < 1:
                raise ConfigError(f"index {key}={getattr(self, key)} must be >= 1")


def index_kind(spec: IndexSpec, n: int) -> str:
    """The concrete kind ``spec`` gives for ``n`` vectors."""
    if spec.kind != "auto":
        return spec.kind
    return "flat" if n <= spec.exact_max else "hnsw"


def prepare(vectors: np.ndarray, metric: str, *, unit: bool = False) -> np.ndarray:
    """Vectors as FAISS stores them: contiguous float32, unit length for cosine.

    ``unit``: the rows are unit length already (an embedder's output), not normalised again.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if metric == "cosine" and not unit:
        x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
    return x


def build_index(vectors: np.ndarray, *, metric: str, spec: IndexSpec = IndexSpec()):
    """Build an index over ``vectors`` (shape (n, dim)); ids are the row numbers."""
    x = prepare(vectors, metric)
    n, dim = x.shape
    fmetric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    kind = index_kind(spec, n)
    if kind == "flat":
        index = faiss.IndexFlat(dim, fmetric)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, spec.hnsw_m, fmetric)
        index.hnsw.efConstruction = spec.ef_construction
        index.hnsw.efSearch = spec.ef_search
    elif kind == "ivf":
        nlist = _nlist(spec, n)
        index = faiss.IndexIVFFlat(faiss.IndexFlat(dim, fmetric), dim, nlist, fmetric)
        index.train(_training_sample(x, nlist))
        index.nprobe = min(spec.nprobe, nlist)
    else:
        if dim % 2 or dim < 8:
            raise ConfigError(f"index kind='ivfpq' needs an even dimension >= 8, got {dim}")
        nlist = _nlist(spec, n)
        index = faiss.index_factory(dim, f"IVF{nlist}_HNSW32,PQ{dim}x4fs,RFlat", fmetric)
        index.train(_training_sample(x, nlist))
        faiss.extract_index_ivf(index).nprobe = min(spec.nprobe, nlist)
        index.k_factor = spec.refine
    index.add(x)
    return index


def _nlist(spec: IndexSpec, n: int) -> int:
    return spec.nlist or max(1, min(n // 39, int(4 * math.sqrt(n))))


def _training_sample(x: np.ndarray, nlist: int, *, per_list: int = 64) -> np.ndarray:
    """At most ``per_list`` vectors per IVF list for k-means (as FAISS itself samples)."""
    m = min(len(x), max(per_list * nlist, 10_000))
    if m == len(x):
        return x
    return x[np.sort(np.random.default_rng(0).choice(len(x), m, replace=False))]


def stored_vectors(index) -> np.ndarray | None:
    """Every vector of ``index`` as stored (row order); None when it keeps only codes."""
    if isinstance(index, faiss.IndexIVFPQ):
        return None
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.make_direct_map()
    if index.ntotal == 0:
        return np.zeros((0, index.d), np.float32)
    return index.reconstruct_n(0, index.ntotal)


def gpu_available() -> bool:
    """True when the installed FAISS has GPU support and sees a GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def gpu_flat_index(vectors: np.ndarray, *, metric: str, device: int = 0):
    """An exact FAISS GPU index over ``vectors`` stored in fp16 (needs :func:`gpu_available`)."""
    x = prepare(vectors, metric)
    res = faiss.StandardGpuResources()
    config = faiss.GpuIndexFlatConfig()
    config.device, config.useFloat16 = device, True
    cls = faiss.GpuIndexFlatL2 if metric == "l2" else faiss.GpuIndexFlatIP
    index = cls(res, x.shape[1], config)
    index.add(x)
    index.resources = res  # the index must not outlive its resources
    return index


class Searcher:
    """k-NN search over one index with the library's metric.

    Parameters
    ----------
    index : faiss.Index
    metric : {"l2", "cosine", "ip"}
    """

    def __init__(self, index, *, metric: str) -> None:
        self.index = index
        self.metric = metric
        self.dim = index.d

    @property
    def count(self) -> int:
        """Number of vectors in the index."""
        return int(self.index.ntotal)

    def search(self, query: np.ndarray, k: int, *,
               unit: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Nearest neighbours of one query.

        Parameters
        ----------
        query : np.ndarray, shape (dim,)
            Any vector; normalised for a cosine index unless ``unit``.
        k : int
        unit : bool
            The query is unit length already (an embedder's own output).

        Returns
        -------
        ids : np.ndarray, shape (m,), int64, m <= k (no -1 labels)
        distances : np.ndarray, shape (m,), float32, ascending
        """
        q = prepare(query.reshape(1, -1), self.metric, unit=unit)
        if q.shape[1] != self.dim:
            raise LibraryError(f"query has dimension {q.shape[1]}, the index {self.dim}")
        raw, ids = self.index.search(q, min(k, self.count))
        keep = ids[0] >= 0
        return ids[0][keep], reported_distances(raw[0][keep], self.metric)


def reported_distances(raw: np.ndarray, metric: str) -> np.ndarray:
    """FAISS's raw scores (squared L2, or inner product) as rtsim reports distances."""
    if metric == "l2":
        return np.sqrt(np.maximum(raw, 0)).astype(np.float32)
    if metric == "cosine":  # rounding can put cos(v, v) a hair above 1
        return np.maximum(1.0 - raw, 0.0).astype(np.float32)
    return (-raw).astype(np.float32)
