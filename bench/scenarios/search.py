"""``rtsim bench search``: exact vs approximate k-NN, one query at a time.

For every (library size, dimension) the scenario builds the indexes rtsim can use and
times single-query searches as the engine makes them (``Searcher.search``, batch 1,
k = 10, the next query vector each call):

- ``flat``: exact (FAISS ``IndexFlat``), the reference for recall;
- ``hnsw``: ``IndexHNSWFlat`` built as rtsim builds it (M = 32, efConstruction 80),
  efSearch swept over :data:`HNSW_EF`;
- ``ivf``: ``IndexIVFFlat`` with nlist = 4·sqrt(n), nprobe swept over :data:`IVF_NPROBE`;
- ``ivfpq``: IVF (HNSW coarse quantizer) over 4-bit fast-scan PQ codes, one per
  dimension, re-ranked exactly (``IVFn_HNSW32,PQdx4fs,RFlat``), as ``build_index`` makes
  it; nprobe × refine factor swept over :data:`IVFPQ_SWEEP`;
- ``kdtree``: ``scipy.spatial.cKDTree`` for 3-D maps (L2 on unit vectors ranks as cosine);
- with ``--device cuda`` and a GPU build of FAISS: GPU flat and IVF at batch 1 and 64;
- with ``--device cuda``: rtsim's exact torch search on the GPU
  (:class:`~rtsim.index.torch_search.TorchSearcher`, fp16 scan + fp32 re-rank), at batch 1
  as ``rtsim query`` calls it (``torch-gpu``), at batch 1 replayed from a CUDA graph as the
  engine's device hop runs it (``torch-gpu-graph``), and at batch 64.

Vectors are synthetic but shaped like embeddings: a mixture of a few hundred Gaussian
clusters of varying spread and weight, L2-normalised; queries are fresh draws from the
same mixture. Indexes use inner product on the unit vectors (``metric="ip"`` at build,
so no second copy of the library is made; ``metric="cosine"`` at search, so each query
is normalised as the engine does). A build whose estimated time or memory is over
budget is skipped, with a note saying why.
"""

from __future__ import annotations

import argparse
import itertools
import math
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from scipy.spatial import cKDTree

from rtsim.bench.core import Report, time_calls
from rtsim.errors import ConfigError
from rtsim.index.faiss_index import IndexSpec, Searcher, build_index, prepare

__all__ = ["run", "Mixture", "make_mixture", "draw", "recall_at_k", "KdSearcher",
           "size_label", "IVF_TRAIN_PER_LIST"]

K = 10
TARGET_RECALL = 0.95
HNSW_EF = (16, 32, 64, 128, 256)
IVF_NPROBE = (1, 4, 16, 64, 256)
IVFPQ_SWEEP = ((16, 32), (32, 32), (32, 64), (64, 64), (64, 128))
#: IVF k-means is trained on at most this many vectors per list (FAISS warns below 39).
IVF_TRAIN_PER_LIST = 64
KDTREE_MAX_DIM = 3
GPU_BATCH = 64
CLUSTERS = 300
#: A build estimated to take longer than this (s) is skipped.
BUILD_BUDGET_S = 600.0
#: A build may use at most this fraction of the memory available when it starts.
MEMORY_FRACTION = 0.7
#: Vectors in the probe build that estimates a large build's time.
PROBE_N = 20_000


@dataclass(frozen=True)
class Plan:
    """What one run measures (from the command-line options)."""

    sizes: tuple[int, ...]
    dims: tuple[int, ...]
    repeats: int
    warmup: int
    max_seconds: float
    n_queries: int
    gpu: bool
    indexes: tuple[str, ...] = ("hnsw", "ivf", "ivfpq", "kdtree")
    torch_device: str | None = None


def _plan(args: argparse.Namespace) -> Plan:
    quick = getattr(args, "quick", False)
    sizes = getattr(args, "sizes", None) or ("2e3,1e4" if quick else "1e4,1e5,1e6")
    dims = getattr(args, "dims", None) or ("3,32" if quick else "3,64,128,256")
    repeats = getattr(args, "repeats", None) or (100 if quick else 1000)
    gpu = getattr(args, "device", "cpu") == "cuda" and getattr(faiss, "get_num_gpus", int)() > 0
    known = tuple(k.name for k in KINDS)
    indexes = tuple((getattr(args, "indexes", None) or ",".join(known)).split(","))
    if not set(indexes) <= set(known):
        raise ConfigError(f"--indexes={','.join(indexes)}: known are {', '.join(known)} "
                          "(flat, the reference, always runs)")
    return Plan(sizes=tuple(int(float(s)) for s in sizes.split(",")),
                dims=tuple(int(d) for d in dims.split(",")), repeats=repeats,
                warmup=min(20, repeats), max_seconds=1.0 if quick else 3.0,
                n_queries=200 if quick else 1000, gpu=gpu, indexes=indexes,
                torch_device=_torch_device(args))


def _torch_device(args: argparse.Namespace) -> str | None:
    """Where the torch exact search is measured: CUDA when asked for and present."""
    import torch

    return "cuda" if getattr(args, "device", "cpu") == "cuda" and torch.cuda.is_available() \
        else None


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Mixture:
    """Gaussian clusters around unit centres.

    ``centres`` (C, dim), ``spreads`` and ``weights`` (C,). A draw is
    ``centre + spread · N(0, I/dim)``, then L2-normalised.
    """

    centres: np.ndarray
    spreads: np.ndarray
    weights: np.ndarray


def make_mixture(dim: int, *, clusters: int = CLUSTERS, seed: int = 0) -> Mixture:
    """A seeded mixture; spreads are log-uniform in [0.1, 1], weights Dirichlet(1)."""
    rng = np.random.default_rng([seed, dim])
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spreads = np.exp(rng.uniform(np.log(0.1), 0.0, clusters)).astype(np.float32)
    return Mixture(centres, spreads, rng.dirichlet(np.ones(clusters)))


def draw(mix: Mixture, n: int, *, seed: int, chunk: int = 1 << 16) -> np.ndarray:
    """``n`` unit vectors from ``mix``, shape (n, dim), float32 (built in chunks)."""
    rng = np.random.default_rng(seed)
    dim = mix.centres.shape[1]
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        label = rng.choice(len(mix.weights), size=m, p=mix.weights)
        x = rng.standard_normal((m, dim), dtype=np.float32)
        x *= (mix.spreads[label] / np.float32(math.sqrt(dim)))[:, None]
        x += mix.centres[label]
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start:start + m] = x
    return out


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each row of ``truth`` (nq, k) present in ``found`` (nq, k')."""
    hits = (found[:, :, None] == truth[:, None, :]).any(axis=1)
    return float(hits.mean())


def size_label(n: int) -> str:
    """``10000 -> "1e4"``, ``2000 -> "2e3"``, ``12345 -> "12345"``."""
    exp = len(str(n)) - 1
    while exp > 0 and n % 10**exp:
        exp -= 1
    return f"{n // 10**exp}e{exp}" if exp else str(n)


# ---------------------------------------------------------------- indexes


class KdSearcher:
    """A ``cKDTree`` searched like :class:`~rtsim.index.faiss_index.Searcher`.

    One query at a time, normalised; Euclidean distances ascending, which on unit vectors
    is the order of cosine distance.
    """

    def __init__(self, vectors: np.ndarray, *, leafsize: int = 16):
        self.tree = cKDTree(vectors, leafsize=leafsize)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids (k,) and distances (k,) of the nearest neighbours of ``query`` (dim,)."""
        dist, ids = self.tree.query(prepare(query.reshape(1, -1), "cosine")[0], k=k)
        return ids, dist

    def batch(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Ids (nq, k) for ``queries`` (nq, dim)."""
        return self.tree.query(queries, k=k)[1]


def _nlist(n: int) -> int:
    """IVF lists for ``n`` vectors, as ``build_index`` chooses them (about 4·sqrt(n))."""
    return max(1, min(n // 39, int(4 * math.sqrt(n))))


def _build_ivf(x: np.ndarray):
    """IVF-Flat as ``build_index`` makes it (same nlist), k-means trained on a sample."""
    n, dim = x.shape
    nlist = _nlist(n)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    m = min(n, IVF_TRAIN_PER_LIST * nlist)
    sample = x if m == n else x[np.sort(np.random.default_rng(0).choice(n, m, replace=False))]
    index.train(sample)
    index.add(x)
    return index


def _serialized_bytes(index) -> int:
    """Size of ``faiss.write_index`` output, counted without holding a copy."""
    if isinstance(index, KdSearcher):
        return len(pickle.dumps(index.tree, protocol=pickle.HIGHEST_PROTOCOL))
    total = 0

    def count(chunk: bytes) -> None:
        nonlocal total
        total += len(chunk)

    faiss.write_index(index, faiss.PyCallbackIOWriter(count))
    return total


@dataclass(frozen=True)
class Kind:
    """One index family: how to build it, its memory (bytes for n×dim) and its sweep."""

    name: str
    build: Callable[[np.ndarray], object]
    memory: Callable[[int, int], float]
    sweep: Callable[[object], list[tuple[str, Callable[[], None]]]]
    scaling: float  # build time ∝ n**scaling (for the estimate)


def _hnsw_sweep(index) -> list[tuple[str, Callable[[], None]]]:
    hnsw = index.hnsw
    return [(f"ef={ef}", lambda ef=ef: setattr(hnsw, "efSearch", ef)) for ef in HNSW_EF]


def _ivf_sweep(index) -> list[tuple[str, Callable[[], None]]]:
    return [(f"nprobe={p}", lambda p=p: setattr(index, "nprobe", p)) for p in IVF_NPROBE
            if p <= index.nlist]


def _ivfpq_sweep(index) -> list[tuple[str, Callable[[], None]]]:
    ivf = faiss.extract_index_ivf(index)

    def setter(nprobe, refine):
        def apply():
            ivf.nprobe = nprobe
            index.k_factor = refine
        return apply

    return [(f"nprobe={p},refine={r}", setter(p, r)) for p, r in IVFPQ_SWEEP if p <= ivf.nlist]


def _ivfpq_memory(n: int, dim: int) -> float:
    """4-bit codes, the exact vectors kept for re-ranking, ids, and the training sample."""
    return n * (0.5 * dim + 4 * dim + 8) + min(n, IVF_TRAIN_PER_LIST * _nlist(n)) * 4 * dim


def _hnsw_memory(n: int, dim: int) -> float:
    """Vectors, level-0 links (2·M int32) and a margin for the upper levels."""
    return n * (4 * dim + 1.1 * 2 * IndexSpec().hnsw_m * 4 + 16)


def _ivf_memory(n: int, dim: int) -> float:
    """Vectors and ids in the lists, plus the training sample."""
    return n * (4 * dim + 8) + min(n, IVF_TRAIN_PER_LIST * _nlist(n)) * 4 * dim


KINDS = (
    Kind("hnsw", lambda x: build_index(x, metric="ip", spec=IndexSpec(kind="hnsw")),
         _hnsw_memory, _hnsw_sweep, 1.15),
    Kind("ivf", _build_ivf, _ivf_memory, _ivf_sweep, 1.5),
    Kind("ivfpq", lambda x: build_index(x, metric="ip", spec=IndexSpec(kind="ivfpq")),
         _ivfpq_memory, _ivfpq_sweep, 1.2),
    Kind("kdtree", KdSearcher, lambda n, dim: n * (8 * dim + 24),
         lambda index: [("leafsize=16", lambda: None)], 1.1),
)


def _available_bytes() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float("inf")


# ---------------------------------------------------------------- measuring


@dataclass
class Cell:
    """One (size, dim): library (n, dim), queries (nq, dim) and exact top-k ids (nq, k)."""

    n: int
    dim: int
    x: np.ndarray
    queries: np.ndarray
    truth: np.ndarray

    @property
    def label(self) -> str:
        """``"1e6x256"``."""
        return f"{size_label(self.n)}x{self.dim}"


class SearchBench:
    """Runs the grid, keeping build-time history for the estimates."""

    def __init__(self, plan: Plan, report: Report):
        self.plan, self.report = plan, report
        self.history: dict[tuple[str, int], tuple[int, float]] = {}
        self.gpu_res = faiss.StandardGpuResources() if plan.gpu else None

    def run_cell(self, n: int, dim: int) -> None:
        """Measure every index kind at one (size, dim)."""
        need = 2 * 4 * n * dim + 4 * self.plan.n_queries * dim
        if need > MEMORY_FRACTION * _available_bytes():
            self._skip(f"{size_label(n)}x{dim}", "all", f"library + flat index need "
                       f"{need / 2**30:.1f} GiB, over {MEMORY_FRACTION:.0%} of the "
                       f"{_available_bytes() / 2**30:.1f} GiB available")
            return
        mix = make_mixture(dim)
        x = draw(mix, n, seed=1)
        queries = draw(mix, self.plan.n_queries, seed=2)
        t0 = time.perf_counter()
        flat = build_index(x, metric="ip", spec=IndexSpec(kind="flat"))
        build_s = time.perf_counter() - t0
        cell = Cell(n, dim, x, queries, flat.search(queries, K)[1])
        self._measure(cell, "flat", flat, [("-", lambda: None)], build_s)
        if self.gpu_res is not None:
            self._measure_gpu(cell, "flat", flat, [("-", lambda: None)])
        if self.plan.torch_device:
            self._measure_torch(cell, self.plan.torch_device)
        del flat
        for kind in KINDS:
            if kind.name in self.plan.indexes and \
                    (kind.name != "kdtree" or dim <= KDTREE_MAX_DIM) and \
                    (kind.name != "ivfpq" or (dim % 2 == 0 and dim >= 8)):
                self._run_kind(cell, kind)
        self._summarise(cell)

    def _run_kind(self, cell: Cell, kind: Kind) -> None:
        why = self._over_budget(cell, kind)
        if why:
            self._skip(cell.label, kind.name, why)
            return
        t0 = time.perf_counter()
        index = kind.build(cell.x)
        build_s = time.perf_counter() - t0
        self.history[(kind.name, cell.dim)] = (cell.n, build_s)
        self._measure(cell, kind.name, index, kind.sweep(index), build_s)
        if self.gpu_res is not None and kind.name == "ivf":
            self._measure_gpu(cell, "ivf", index, kind.sweep(index))

    def _over_budget(self, cell: Cell, kind: Kind) -> str | None:
        need, have = kind.memory(cell.n, cell.dim), _available_bytes()
        if need > MEMORY_FRACTION * have:
            return (f"needs about {need / 2**30:.1f} GiB, over {MEMORY_FRACTION:.0%} of the "
                    f"{have / 2**30:.1f} GiB available")
        key = (kind.name, cell.dim)
        if key not in self.history and cell.n > PROBE_N:  # probe on a prefix
            t0 = time.perf_counter()
            kind.build(cell.x[:PROBE_N])
            self.history[key] = (PROBE_N, time.perf_counter() - t0)
        if key not in self.history:
            return None
        n0, s0 = self.history[key]
        estimate = s0 * (cell.n / n0) ** kind.scaling
        if estimate > BUILD_BUDGET_S:
            return (f"estimated build {estimate:.0f} s (from {s0:.1f} s at "
                    f"{size_label(n0)}, ∝ n^{kind.scaling}) is over the {BUILD_BUDGET_S:.0f}-s "
                    f"budget at {faiss.omp_get_max_threads()} thread(s)")
        return None

    def _measure(self, cell: Cell, name: str, index, sweep, build_s: float) -> None:
        nbytes = _serialized_bytes(index)
        kd = isinstance(index, KdSearcher)
        searcher = index if kd else Searcher(index, metric="cosine")
        for param, apply in sweep:
            apply()
            found = index.batch(cell.queries, K) if kd else index.search(cell.queries, K)[1]
            stage = _stage(name, param if len(sweep) > 1 else "-", 1, cell)
            timing = self._time(stage, searcher.search, cell.queries, 1)
            self._row(cell, name, param, 1, timing, recall_at_k(found, cell.truth), build_s,
                      nbytes)

    def _measure_gpu(self, cell: Cell, name: str, cpu_index, sweep) -> None:
        """GPU copy at batch 1 and :data:`GPU_BATCH`, and the CPU index at that batch.

        GPU rows' ``build_s`` is the host-to-device copy; ``bytes`` is not measured.
        """
        t0 = time.perf_counter()
        gpu = faiss.index_cpu_to_gpu(self.gpu_res, 0, cpu_index)
        copy_s = time.perf_counter() - t0
        space = faiss.GpuParameterSpace()
        runs = (("gpu-" + name, 1, Searcher(gpu, metric="cosine").search),
                ("gpu-" + name, GPU_BATCH, gpu.search), (name, GPU_BATCH, cpu_index.search))
        for param, apply in sweep:
            apply()
            if param != "-":
                key, value = param.split("=")
                space.set_index_parameter(gpu, key, float(value))
            recall = recall_at_k(gpu.search(cell.queries, K)[1], cell.truth)
            for label, batch, search in runs:
                timing = self._time(_stage(label, param, batch, cell), search, cell.queries,
                                    batch)
                build_s = copy_s if label.startswith("gpu-") else float("nan")
                self._row(cell, label, param, batch, timing, recall, build_s, None)

    def _measure_torch(self, cell: Cell, device: str) -> None:
        """The exact torch search on ``device``; ``build_s`` is the copy to the device."""
        import torch

        from rtsim.features.graphs import GraphedCall
        from rtsim.index.torch_search import TorchSearcher

        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        t0 = time.perf_counter()
        searcher = TorchSearcher(cell.x, metric="cosine", device=device)
        sync()
        copy_s = time.perf_counter() - t0
        queries = torch.from_numpy(cell.queries).to(device)
        with torch.inference_mode():
            found = torch.cat([searcher.search_tensor(queries[i:i + GPU_BATCH], K)[0]
                               for i in range(0, len(queries), GPU_BATCH)]).cpu().numpy()
            graph = GraphedCall(lambda q: searcher.search_tensor(q, K), queries[:1],
                                name="torch search")
        recall = recall_at_k(found, cell.truth)

        def replayed(q, k):  # k is the captured K
            rows, _ = graph(torch.from_numpy(q[None]))
            return rows.cpu()

        def batched(q, k):
            return searcher.search_tensor(torch.from_numpy(q).to(device), k)[0].cpu()

        runs = (("torch-gpu", 1, searcher.search), ("torch-gpu-graph", 1, replayed),
                ("torch-gpu", GPU_BATCH, batched))
        with torch.inference_mode():
            for label, batch, search in runs:
                timing = self._time(_stage(label, "-", batch, cell), search, cell.queries, batch)
                self._row(cell, label, "-", batch, timing, recall, copy_s, None)
        self.report.extra[f"torch_gpu/{cell.label}"] = {
            "precision": searcher.precision, "candidates": searcher.candidates,
            "graph_captured": graph.captured, "recall10": recall, "copy_s": round(copy_s, 2)}
        if device == "cuda":
            del searcher, graph  # noqa: F821 (closures are done with them)
            torch.cuda.empty_cache()  # give the library copy's memory back

    def _time(self, stage: str, search, queries: np.ndarray, batch: int) -> dict:
        rows = [queries[i:i + batch] for i in range(0, len(queries) - batch + 1, batch)]
        if batch == 1:
            rows = [r[0] for r in rows]
        cycle = itertools.cycle(rows)
        plan = self.plan
        timing = time_calls(lambda: search(next(cycle), K), name=stage, warmup=plan.warmup,
                            repeats=plan.repeats, max_seconds=plan.max_seconds)
        return self.report.add(timing)

    def _row(self, cell, name, param, batch, timing, recall, build_s, nbytes) -> None:
        self.report.rows.append({
            "size": cell.n, "dim": cell.dim, "index": name, "param": param,
            "p50_ms": timing["p50_ms"], "p99_ms": timing["p99_ms"], "recall10": recall,
            "build_s": build_s, "bytes": nbytes, "batch": batch})

    def _skip(self, label: str, what: str, why: str) -> None:
        self.report.notes.append(f"skipped {what} at {label}: {why}")

    def _summarise(self, cell: Cell) -> None:
        rows = [r for r in self.report.rows if (r["size"], r["dim"]) == (cell.n, cell.dim)]
        best = _fastest(rows, None, 1)
        self.report.extra[f"best/{cell.label}"] = {
            "index": best["index"], "param": best["param"],
            "p50_ms": float(f"{best['p50_ms']:.4g}"), "recall10": best["recall10"]}
        flat, hnsw = _fastest(rows, "flat", 1), _fastest(rows, "hnsw", 1)
        if hnsw is not None:
            self.report.ratios[f"hnsw_vs_flat/{cell.label}"] = flat["p50_ms"] / hnsw["p50_ms"]
        if self.gpu_res is not None:
            self.report.notes.append(f"{cell.label} CPU vs GPU: " + _gpu_verdicts(rows))
        kd = next((r for r in rows if r["index"] == "kdtree"), None)
        if kd is not None and kd["recall10"] < 1.0:
            self.report.notes.append(
                f"{cell.label}: the k-d tree (exact, float64) agrees with FAISS flat (float32 "
                f"inner product) on {kd['recall10']:.2%} of top-10 members: neighbours this "
                "close are closer than float32 cosine resolves, so the flat reference itself "
                "misorders near-ties here")


def _fastest(rows: list[dict], index: str | None, batch: int) -> dict | None:
    """The lowest-p50 row of ``index`` (any if None) at ``batch`` with recall >= target."""
    good = [r for r in rows if r["batch"] == batch and r["recall10"] >= TARGET_RECALL
            and index in (None, r["index"])]
    return min(good, key=lambda r: r["p50_ms"], default=None)


def _gpu_verdicts(rows: list[dict]) -> str:
    """Which device is faster for flat and IVF at batch 1 and :data:`GPU_BATCH`."""
    out = []
    for batch in (1, GPU_BATCH):
        for name in ("flat", "ivf"):
            cpu, gpu = _fastest(rows, name, batch), _fastest(rows, f"gpu-{name}", batch)
            if cpu and gpu:
                where = "GPU" if gpu["p50_ms"] < cpu["p50_ms"] else "CPU"
                out.append(f"{name} batch {batch}: {where} faster (CPU {cpu['p50_ms']:.3f} ms, "
                           f"GPU {gpu['p50_ms']:.3f} ms)")
    return "; ".join(out) or "no comparable rows"


def _stage(name: str, param: str, batch: int, cell: Cell) -> str:
    """``hnsw-ef16/1e6x256``, ``ivf-np4-b64/1e5x64``, ``ivfpq-np32-refine64/1e6x256``."""
    if param != "-":
        for part in param.split(","):
            key, value = part.split("=")
            name += "-" + {"nprobe": "np"}.get(key, key) + value
    return f"{name}{f'-b{batch}' if batch > 1 else ''}/{cell.label}"


def run(args: argparse.Namespace) -> Report:
    """Measure the (size × dim) grid; see the module docstring."""
    plan = _plan(args)
    faiss.omp_set_num_threads(getattr(args, "threads", 1) or 1)
    report = Report("search")
    if getattr(args, "device", "cpu") == "cuda" and not plan.gpu:
        report.notes.append("--device cuda: this FAISS has no GPU support; CPU indexes only")
    bench, t0 = SearchBench(plan, report), time.perf_counter()
    for n in plan.sizes:
        for dim in plan.dims:
            bench.run_cell(n, dim)
    report.extra["elapsed_s"] = round(time.perf_counter() - t0, 1)
    report.notes.append(
        f"single queries, k={K}, {plan.n_queries} queries for recall; IVF k-means trained on "
        f"at most {IVF_TRAIN_PER_LIST}·nlist vectors; {faiss.omp_get_max_threads()} thread(s)")
    return report
