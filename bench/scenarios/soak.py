"""``rtsim bench soak --minutes N``: run the engine for a long time and watch for drift.

The demo performance loops in real time through every configured embedder (``pca`` by
default) with OSC, ZeroMQ and the control plane open; every few seconds the scenario
samples the process's resident memory, threads and open file descriptors, the ring
buffer's fill, hops and missed hops. Reported: the slope of memory, threads and
descriptors (per hour, a leak shows as a steady rise), the worst ring fill, missed hops,
and the hop compute time percentiles up to p99.9. ``--busy`` keeps the other core busy.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np

from rtsim.bench.core import Report
from rtsim.bench.scenarios.latency import engine_config
from rtsim.bench.scenarios.live import OscTap, bench_library, busy_core

__all__ = ["run", "slope_per_hour", "process_sample"]


def process_sample() -> dict[str, float]:
    """Resident memory (MiB), threads and open descriptors of this process now."""
    status = Path("/proc/self/status").read_text().splitlines()
    rss = next(float(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
    return {"rss_mib": rss, "threads": threading.active_count(),
            "fds": len(os.listdir("/proc/self/fd"))}


def slope_per_hour(t: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``y`` over ``t`` (seconds), per hour."""
    if len(t) < 3:
        return float("nan")
    return float(np.polyfit(t, y, 1)[0] * 3600)


def run(args) -> Report:
    """Soak for ``--minutes`` (``--seconds`` also accepted); 0.5 min with ``--quick``."""
    from rtsim.demo.data import ensure_demo
    from rtsim.engine.wiring import build_engine

    minutes = getattr(args, "minutes", None) or ((args.seconds or 0) / 60) or \
        (0.5 if args.quick else 10.0)
    names = args.embedders.split(",") if args.embedders else ["pca"]
    rows = int(args.library_size or (2e3 if args.quick else 1e5))
    libraries = {n: bench_library(n, rows, device=args.device) for n in names}
    clip = ensure_demo(device=args.device, progress=False).clip
    tap = OscTap(keep=False)  # count only: the soak measures the engine's memory
    cfg = engine_config(args, clip=clip, libraries=libraries, osc_port=tap.port)
    engine = build_engine(cfg)
    samples: list[dict] = []
    t0 = time.monotonic()
    every = max(1.0, minutes * 60 / 120)
    with busy_core(args.busy):
        engine.start()
        try:
            while time.monotonic() - t0 < minutes * 60 and engine.running:
                time.sleep(min(every, max(0.0, minutes * 60 - (time.monotonic() - t0))))
                s = process_sample()
                st = engine.status()
                samples.append({"t": time.monotonic() - t0, **s, "ring_fill":
                                engine.ring.available(), "hops": st.hops,
                                "missed": st.missed_hops})
        finally:
            engine.stop()
            engine.join(5)
            for pub in engine.publishers:
                pub.close()
    tap.close()
    rep = Report("soak")
    rep.stages["hop"] = engine.timer.stages["hop"].summary_ms()
    t = np.array([s["t"] for s in samples])
    half = t >= t[-1] / 2 if len(t) else t  # after warm-up: caches and pools have filled
    for key in ("rss_mib", "threads", "fds"):
        y = np.array([s[key] for s in samples], float)
        rep.extra[f"{key}_per_hour"] = slope_per_hour(t[half], y[half])
        rep.extra[f"{key}_first_last"] = [float(y[0]), float(y[-1])] if len(y) else []
    status = engine.status()
    rep.extra.update(minutes=minutes, embedders=names, library_rows=rows, busy_core=args.busy,
                     hops=status.hops, missed_hops=status.missed_hops,
                     dropped_samples=status.dropped_samples, xruns=status.xruns,
                     max_ring_fill=max((s["ring_fill"] for s in samples), default=0),
                     samples=len(samples), osc_datagrams=tap.received)
    rep.rows = samples
    return rep
