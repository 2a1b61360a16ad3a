"""``rtsim bench disk``: the out-of-RAM index kind at scale: recall, latency, memory held.

For each size, unit vectors are drawn from the search bench's Gaussian mixture straight
into a ``.npy`` file (chunk by chunk: the bench never holds them all), the ``disk``
index is built from the memory-mapped file (:func:`~rtsim.index.faiss_index.build_index`,
as a library build makes it), and the exact top 10 of held-out queries is computed by
FAISS exact search chunk by chunk. A fresh process then opens the index and maps the
vectors as a library does (:class:`~rtsim.index.faiss_index.DiskSearcher`) and, for each
``nprobe`` x ``refine``, times single queries and scores recall@10; it reports its
resident memory from ``/proc/self/status``: ``RssAnon`` (what the process allocated:
codes, lists, quantizer) apart from ``RssFile`` (pages of the vector file it touched,
the kernel's page cache, given back under pressure).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rtsim.bench.core import Report

__all__ = ["run"]

QUERIES = 200
NPROBE = (16, 32, 64, 128)
REFINE = (4, 16, 64)
_CHUNK = 1 << 20


def run(args) -> Report:
    """Build (or reuse) each size's disk index and measure it in a fresh process."""
    from rtsim.bench.scenarios.search import size_label
    from rtsim.cache import cache_dir

    quick = getattr(args, "quick", False)
    sizes = [int(float(s)) for s in (args.sizes or ("2e4" if quick else "1e6")).split(",")]
    dim = int((args.dims or "128").split(",")[0])
    rep = Report("disk")
    for n in sizes:
        folder = cache_dir() / "bench" / f"disk-{size_label(n)}x{dim}"
        built = _prepare(folder, n, dim)
        out = subprocess.run([sys.executable, "-c", _PROBE, str(folder), json.dumps(
            {"nprobe": NPROBE, "refine": REFINE, "quick": quick})],
            capture_output=True, text=True, check=True)
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        for row in probe["rows"]:
            rep.add_samples(f"{size_label(n)}/nprobe={row['nprobe']},refine={row['refine']}",
                            np.asarray(row.pop("seconds")))
            rep.rows.append({"n": size_label(n), "dim": dim, **row,
                             "rss_anon_mb": probe["rss_anon_mb"],
                             "vectors_mb": round(n * dim * 4 / 2**20),
                             "build_s": built["build_s"]})
        rep.extra[f"{size_label(n)}x{dim}"] = {**built, **{k: v for k, v in probe.items()
                                                            if k != "rows"}}
    rep.notes.append("rss_anon_mb: the searching process's own memory after opening the "
                     "index and answering every query (the vectors stay on disk, mapped)")
    return rep


def _prepare(folder: Path, n: int, dim: int) -> dict:
    """Vectors, queries, exact top 10 and the disk index in ``folder`` (kept)."""
    import faiss

    from rtsim.bench.scenarios.search import draw, make_mixture

    folder.mkdir(parents=True, exist_ok=True)
    info_path = folder / "built.json"
    if info_path.is_file():
        return json.loads(info_path.read_text())
    mix = make_mixture(dim)
    vec_path = folder / "vectors.npy"
    if (folder / "truth.npy").is_file():  # the data of an earlier run: only the index again
        _build_disk(folder, vec_path, info_path)
        return json.loads(info_path.read_text())
    vec = np.lib.format.open_memmap(vec_path, mode="w+", dtype=np.float32, shape=(n, dim))
    for i in range(0, n, _CHUNK):
        vec[i : i + _CHUNK] = draw(mix, min(_CHUNK, n - i), seed=i // _CHUNK)
    vec.flush()
    queries = draw(mix, QUERIES, seed=10**6)
    np.save(folder / "queries.npy", queries)
    truth_d = np.full((QUERIES, 10), -np.inf, np.float32)
    truth_i = np.zeros((QUERIES, 10), np.int64)
    for i in range(0, n, _CHUNK):  # exact top 10, chunk by chunk
        flat = faiss.IndexFlatIP(dim)
        flat.add(np.ascontiguousarray(vec[i : i + _CHUNK]))
        d, ix = flat.search(queries, 10)
        d_all, i_all = np.concatenate([truth_d, d], 1), np.concatenate([truth_i, ix + i], 1)
        top = np.argsort(-d_all, axis=1, kind="stable")[:, :10]
        truth_d, truth_i = np.take_along_axis(d_all, top, 1), np.take_along_axis(i_all, top, 1)
    np.save(folder / "truth.npy", truth_i)
    _build_disk(folder, vec_path, info_path)
    return json.loads(info_path.read_text())


def _build_disk(folder: Path, vec_path: Path, info_path: Path) -> None:
    import faiss

    from rtsim.index.faiss_index import IndexSpec, build_index

    t0 = time.perf_counter()
    index = build_index(np.load(vec_path, mmap_mode="r"), metric="ip",
                        spec=IndexSpec(kind="disk"))
    build_s = time.perf_counter() - t0
    faiss.write_index(index, str(folder / "index.faiss"))
    info = {"build_s": round(build_s, 1), "nlist": faiss.extract_index_ivf(index).nlist,
            "index_mb": round((folder / "index.faiss").stat().st_size / 2**20, 1)}
    info_path.write_text(json.dumps(info))


_PROBE = r'''
import json, sys, time
import numpy as np, faiss
from rtsim.index.faiss_index import DiskSearcher, set_nprobe

def status():
    f = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
    return {k: int(f[k].split()[0]) / 1024 for k in ("RssAnon", "RssFile")}

folder, opts = sys.argv[1], json.loads(sys.argv[2])
before = status()
index = faiss.read_index(folder + "/index.faiss")
s = DiskSearcher(index, np.load(folder + "/vectors.npy", mmap_mode="r"), metric="ip", refine=1)
q, truth = np.load(folder + "/queries.npy"), np.load(folder + "/truth.npy")
opened = status()
rows = []
for nprobe in opts["nprobe"]:
    for refine in opts["refine"]:
        set_nprobe(index, nprobe)
        s.refine = refine
        times, hits = [], 0
        for i in range(len(q)):
            t0 = time.perf_counter()
            ids, _ = s.search(q[i], 10, unit=True)
            times.append(time.perf_counter() - t0)
            hits += len(set(ids.tolist()) & set(truth[i].tolist()))
        t = np.array(times) * 1e3
        rows.append({"nprobe": nprobe, "refine": refine,
                     "p50_ms": round(float(np.percentile(t, 50)), 3),
                     "p99_ms": round(float(np.percentile(t, 99)), 3),
                     "recall@10": round(hits / (10 * len(q)), 4), "seconds": times})
after = status()
print(json.dumps({"rows": rows, "rss_anon_mb": round(after["RssAnon"], 1),
                  "rss_anon_open_mb": round(opened["RssAnon"], 1),
                  "rss_file_mb": round(after["RssFile"], 1),
                  "rss_anon_python_mb": round(before["RssAnon"], 1)}))
'''
