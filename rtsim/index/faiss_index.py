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
from collections.abc import Iterator
from dataclasses import dataclass

import faiss
import numpy as np

from rtsim.errors import ConfigError, LibraryError
from rtsim.index.manifest import INDEX_KINDS as KINDS

__all__ = ["IndexSpec", "build_index", "Searcher", "DiskSearcher", "index_kind",
           "stored_vectors", "reported_distances", "gpu_available", "gpu_flat_index",
           "memory_needed", "set_nprobe", "prepared_chunks", "KINDS"]


_CHUNK = 1 << 18  # vectors prepared and added at a time (a big build never copies them all)


@dataclass(frozen=True)
class IndexSpec:
    """How a library's index is built.

    Parameters
    ----------
    kind : {"auto", "flat", "hnsw", "ivf", "ivfpq", "disk"}
        ``auto``: exact (flat) up to ``exact_max`` vectors, HNSW above, ``disk`` when the
        float32 vectors alone would pass ``ram_max_mb``. ``ivfpq``: IVF (HNSW coarse
        quantizer) over 4-bit fast-scan codes, one per dimension, with the ``refine``·k
        best re-ranked exactly (FAISS ``IVFn_HNSW32,PQdx4fs,RFlat``). ``disk``: IVF over
        8-bit scalar codes in memory (``dim`` bytes a vector, a quarter of float32; FAISS
        ``IVFn_HNSW32,SQ8``), the full vectors in a memory-mapped file beside the index,
        read only for the ``refine``·k candidates re-ranked exactly
        (:class:`DiskSearcher`): libraries larger than RAM. It visits
        ``max(nprobe, nlist/100)`` cells (recall@10 0.969 at 10^7 x 128, bench disk).
    exact_max : int
    ram_max_mb : int
        ``auto`` picks ``disk`` above this many MiB of float32 vectors (the manifest
        keeps it, in its build options).
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
    ram_max_mb: int = 4096
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 64
    nlist: int | None = None
    nprobe: int = 16
    refine: int = 64

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"index kind={self.kind!r} must be one of {KINDS}")
        for key in ("exact_max", "ram_max_mb", "hnsw_m", "ef_construction", "ef_search",
                    "nprobe", "refine"):
            if getattr(self, key) < 1:
                raise ConfigError(f"index {key}={getattr(self, key)} must be >= 1")


def index_kind(spec: IndexSpec, n: int, dim: int = 0) -> str:
    """The concrete kind ``spec`` gives for ``n`` vectors of ``dim`` dimensions."""
    if spec.kind != "auto":
        return spec.kind
    if n * dim * 4 > spec.ram_max_mb * 2**20:
        return "disk"
    return "flat" if n <= spec.exact_max else "hnsw"


def memory_needed(n: int, dim: int, spec: IndexSpec = IndexSpec()) -> dict[str, dict[str, int]]:
    """Bytes each index kind needs for ``n`` vectors: ``{kind: {"ram", "disk"}}``.

    Estimates from the kinds' layouts (float32 vectors, 8-byte ids, HNSW links, 4- and
    8-bit codes), close to what FAISS allocates; ``disk`` is what stays on disk, read on demand.
    """
    vec, ids = n * dim * 4, n * 8
    links = n * spec.hnsw_m * 2 * 4
    codes4 = n * max(dim // 2, 1)
    quant = _nlist(spec, max(n, 1)) * dim * 4 * 2
    return {
        "flat": {"ram": vec, "disk": 0},
        "hnsw": {"ram": vec + links, "disk": 0},
        "ivf": {"ram": vec + ids + quant, "disk": 0},
        "ivfpq": {"ram": codes4 + ids + quant + vec, "disk": 0},
        "disk": {"ram": n * dim + ids + quant, "disk": vec},
    }


def prepare(vectors: np.ndarray, metric: str, *, unit: bool = False) -> np.ndarray:
    """Vectors as FAISS stores them: contiguous float32, unit length for cosine.

    ``unit``: the rows are unit length already (an embedder's output), not normalised again.
    """
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if metric == "cosine" and not unit:
        x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
    return x


def build_index(vectors: np.ndarray, *, metric: str, spec: IndexSpec = IndexSpec()):
    """Build an index over ``vectors`` (shape (n, dim)); ids are the row numbers.

    ``vectors`` may be memory-mapped: a ``disk`` index reads them in chunks (its full
    vectors are written beside it by the library, see :class:`DiskSearcher`).
    """
    n, dim = vectors.shape
    fmetric = faiss.METRIC_L2 if metric == "l2" else faiss.METRIC_INNER_PRODUCT
    kind = index_kind(spec, n, dim)
    if kind == "disk":
        nlist = _nlist(spec, n)
        index = faiss.index_factory(dim, f"IVF{nlist}_HNSW32,SQ8", fmetric)
        index.train(prepare(_training_sample(vectors, nlist), metric))
        set_nprobe(index, max(spec.nprobe, round(nlist / 100)))
        for chunk in prepared_chunks(vectors, metric):
            index.add(chunk)
        return index
    x = prepare(vectors, metric)
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


def prepared_chunks(vectors: np.ndarray, metric: str) -> Iterator[np.ndarray]:
    """:func:`prepare` over successive row chunks: a memory-mapped array is never copied."""
    for i in range(0, len(vectors), _CHUNK):
        yield prepare(vectors[i : i + _CHUNK], metric)


def set_nprobe(index, nprobe: int) -> None:
    """IVF cells an IVF index visits per query; an HNSW coarse quantizer's beam follows.

    The quantizer must find the ``nprobe`` nearest cells, so its ``efSearch`` is kept at
    ``max(64, 2·nprobe)`` (at FAISS's default of 16 the recall of a large IVF index stops
    rising with ``nprobe``: measured 0.956 at 10^6 x 128 whatever the nprobe past 64).
    """
    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = min(int(nprobe), ivf.nlist)
    quantizer = faiss.downcast_index(ivf.quantizer)
    if hasattr(quantizer, "hnsw"):
        quantizer.hnsw.efSearch = max(64, 2 * ivf.nprobe)


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
    if isinstance(index, faiss.IndexIVFPQ | faiss.IndexIVFScalarQuantizer):
        return None  # codes only (a disk library's vectors are in its vectors.npy)
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


class DiskSearcher(Searcher):
    """k-NN over compressed codes in memory, re-ranked exactly from vectors on disk.

    The IVF index over 8-bit codes proposes ``refine``·k candidates; their full vectors
    are read from ``vectors`` (a memory-mapped ``.npy``, prepared as the index stores
    them) and ranked exactly, so the reported distances are exact. Only the candidates'
    pages are read: a library many times the size of RAM answers from a few hundred
    kilobytes per query.

    Parameters
    ----------
    index : faiss.Index
        Codes only (kind ``disk``); :func:`set_nprobe` tunes its cells per query.
    vectors : np.ndarray, shape (n, dim)
        Typically ``np.load(path, mmap_mode="r")``.
    metric : {"l2", "cosine", "ip"}
    refine : int
    """

    def __init__(self, index, vectors: np.ndarray, *, metric: str, refine: int) -> None:
        super().__init__(index, metric=metric)
        if vectors.shape != (index.ntotal, index.d):
            raise LibraryError(f"disk vectors have shape {vectors.shape}, the index holds "
                               f"{index.ntotal} x {index.d}")
        self.vectors = vectors
        self.refine = refine
        _random_access(vectors)

    def search(self, query: np.ndarray, k: int, *,
               unit: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Nearest neighbours of one query (see :meth:`Searcher.search`), exact distances."""
        q = prepare(query.reshape(1, -1), self.metric, unit=unit)
        if q.shape[1] != self.dim:
            raise LibraryError(f"query has dimension {q.shape[1]}, the index {self.dim}")
        _, cand = self.index.search(q, min(k * self.refine, self.count))
        cand = np.unique(cand[0][cand[0] >= 0])  # sorted: the file is read in order
        if not len(cand):
            return cand.astype(np.int64), np.zeros(0, np.float32)
        x = np.asarray(self.vectors[cand], np.float32)
        if self.metric == "l2":
            raw = ((x - q) ** 2).sum(axis=1)
            order = np.argsort(raw, kind="stable")[:k]
        else:
            raw = x @ q[0]
            order = np.argsort(-raw, kind="stable")[:k]
        return cand[order].astype(np.int64), reported_distances(raw[order], self.metric)


def _random_access(vectors: np.ndarray) -> None:
    """Tell the kernel a mapped file is read at random: no read-ahead around each row."""
    import mmap

    mm = getattr(vectors, "_mmap", None)
    if mm is not None and hasattr(mm, "madvise") and hasattr(mmap, "MADV_RANDOM"):
        try:
            mm.madvise(mmap.MADV_RANDOM)
        except (OSError, ValueError):
            pass  # an optimisation only


def reported_distances(raw: np.ndarray, metric: str) -> np.ndarray:
    """FAISS's raw scores (squared L2, or inner product) as rtsim reports distances."""
    if metric == "l2":
        return np.sqrt(np.maximum(raw, 0)).astype(np.float32)
    if metric == "cosine":  # rounding can put cos(v, v) a hair above 1
        return np.maximum(1.0 - raw, 0.0).astype(np.float32)
    return (-raw).astype(np.float32)
