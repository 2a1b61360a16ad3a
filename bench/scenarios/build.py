"""``rtsim bench build``: build throughput, in one process and on Ray; 10^7 files projected.

A folder of synthetic one-shots (1 s, 44.1 kHz WAV, decaying partials at random pitches
and brightness: decoding, resampling, front end and model as for real files) is built
into a library once in this process (the local build) and once per Ray worker count
(a Ray instance on this machine with that many CPUs, one task per ``files_per_task``
files). Rows: files per second of the whole build (scan to written library), and the
time 10^7 files would take at that rate (the build's fixed costs, index and map, are
small beside the per-file work at that size; Ray's start is reported apart and not in
the rate).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from rtsim.bench.core import Report

__all__ = ["run", "make_folder"]

SR = 44_100


def make_folder(folder: Path, n: int, *, seed: int = 0) -> Path:
    """``n`` synthetic one-shot WAVs in ``folder`` (kept between runs)."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = np.arange(SR) / SR
    for i in range(n):
        path = folder / f"shot_{i:05d}.wav"
        if path.exists():
            continue
        f0 = 55.0 * 2 ** rng.uniform(0, 5)
        decay = rng.uniform(2, 12)
        tilt = rng.uniform(0.3, 1.5)
        x = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.28)) / h**tilt
                for h in range(1, 9) if f0 * h < SR / 2)
        x = x * np.exp(-decay * t) + 0.01 * rng.standard_normal(SR) * np.exp(-30 * t)
        sf.write(path, (0.5 * x / np.abs(x).max()).astype(np.float32), SR)
    return folder


def run(args) -> Report:
    """Local build, then Ray builds with 1..cores workers, on the same folder."""
    from rtsim.cache import cache_dir
    from rtsim.embed import get
    from rtsim.index.build import build_library

    quick = getattr(args, "quick", False)
    n = int(getattr(args, "files", None) or (24 if quick else 240))
    workers = [int(w) for w in (getattr(args, "workers", None) or
                                ",".join(str(w) for w in range(1, (os.cpu_count() or 1) + 1))
                                ).split(",")]
    name = (args.embedders or "sample").split(",")[0]
    folder = make_folder(cache_dir() / "bench" / f"build-{n}", n)
    plugin = get(name)
    rep = Report("build")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        build_library(folder, Path(tmp) / "local", plugin=plugin, device="cpu", progress=False)
        rep.rows.append(_row("local", 1, n, time.perf_counter() - t0, 0.0))
        for w in workers:
            rep.rows.append(_ray_row(folder, Path(tmp) / f"ray{w}", plugin, n, w,
                                     getattr(args, "files_per_task", None) or 8))
            shutil.rmtree(Path(tmp) / f"ray{w}", ignore_errors=True)
    for row in rep.rows:  # one bar per build: seconds per file
        rep.add_samples(f"{row['mode']}/{row['workers']} worker(s): s per file",
                        np.array([row["seconds"] / n]))
    rep.extra.update(embedder=name, files=n, cpus=os.cpu_count(),
                     file="1 s mono WAV at 44.1 kHz")
    rep.notes.append("projected_1e7_h: 10^7 files at the measured rate, on this machine")
    return rep


def _ray_row(folder: Path, out: Path, plugin, n: int, workers: int, files_per_task: int):
    import ray

    from rtsim.index.build import build_library
    from rtsim.index.distributed import ray_runner

    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    start = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        build_library(folder, out, plugin=plugin, device="cpu", progress=False,
                      runner=ray_runner(files_per_task=files_per_task))
        return _row("ray", workers, n, time.perf_counter() - t0, start)
    finally:
        ray.shutdown()


def _row(mode: str, workers: int, n: int, seconds: float, start_s: float) -> dict:
    rate = n / seconds
    return {"mode": mode, "workers": workers, "files": n, "seconds": round(seconds, 2),
            "files_per_s": round(rate, 2), "projected_1e7_h": round(1e7 / rate / 3600, 1),
            "ray_start_s": round(start_s, 1)}
