"""``rtsim bench startup``: from launching ``rtsim run`` to the first OSC hop arriving.

A fresh process (imports, library load and check, model load, front-end kernels,
warm-up, audio start) is launched on the cached demo library and clip; a loopback
receiver stamps the first hop datagram. Repeated a few times; the demo assets are
rendered and indexed beforehand, so only start-up is measured.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rtsim.bench.core import Report
from rtsim.bench.scenarios.live import OscTap


def _rtsim() -> list[str]:
    script = Path(sys.executable).parent / "rtsim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rtsim.cli.main"]


def run(args) -> Report:
    """Launch ``rtsim run`` several times; time each first hop."""
    from rtsim.demo.data import ensure_demo

    embedder = (args.embedders or "pca").split(",")[0]
    assets = ensure_demo(embedder=embedder, device=args.device, progress=False)
    times = []
    for _ in range(args.repeats or (2 if args.quick else 5)):
        tap = OscTap()
        t0 = time.time()
        proc = subprocess.Popen([*_rtsim(), "run", "--input", str(assets.clip), "--library",
                                 str(assets.library), "--embedder", embedder,
                                 "--osc", f"127.0.0.1:{tap.port}", "--no-zmq", "--no-view",
                                 "--device", args.device, "--set", "control.enabled=false"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        first = None
        while first is None and proc.poll() is None and time.time() - t0 < 60:
            hops = [a for a, d in list(tap.raw) if b"/seq\x00" in d and b"status" not in d]
            first = hops[0] if hops else None
            time.sleep(0.005)
        proc.terminate()
        proc.wait(10)
        tap.close()
        if first is None:
            raise RuntimeError(f"no hop arrived: {proc.stderr.read()[-2000:]}")
        times.append(first - t0)
    rep = Report("startup")
    rep.add_samples("first_hop", np.array(times))
    rep.extra["targets"] = {"first_hop_le_5s": rep.stages["first_hop"]["p50_ms"] <= 5000}
    rep.extra["embedder"] = embedder
    return rep
