"""``rtsim bench startup``: from launching rtsim to the first OSC hop arriving.

Two launches, each repeated a few times: ``rtsim demo`` as a newcomer types it (its
default embedders, on its cached library and clip), and ``rtsim run`` on one embedder's
cached demo library. A fresh process (imports, library load and check, model load,
front-end kernels, warm-up, audio start); a loopback receiver stamps the first hop
datagram. The demo assets are rendered and indexed beforehand, so only start-up is
measured.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rtsim.bench.core import Report
from rtsim.bench.scenarios.live import OscTap
from rtsim.demo import DEMO_EMBEDDERS


def _rtsim() -> list[str]:
    script = Path(sys.executable).parent / "rtsim"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rtsim.cli.main"]


def _first_hop(argv: list[str]) -> float:
    """Seconds from launching ``rtsim ARGV --osc <tap>`` to its first hop datagram."""
    tap = OscTap()
    t0 = time.time()
    proc = subprocess.Popen([*_rtsim(), *argv, "--osc", f"127.0.0.1:{tap.port}"],
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
    return first - t0


def run(args) -> Report:
    """Launch ``rtsim demo`` and ``rtsim run`` several times each; time each first hop."""
    from rtsim.demo.data import ensure_demo

    embedder = (args.embedders or "pca").split(",")[0]
    assets = {name: ensure_demo(embedder=name, device=args.device, progress=False)
              for name in {*DEMO_EMBEDDERS, embedder}}[embedder]
    common = ["--no-zmq", "--no-view", "--device", args.device,
              "--set", "control.enabled=false"]
    runs = {"demo": ["demo", *common],
            "run": ["run", "--input", str(assets.clip), "--library", str(assets.library),
                    "--embedder", embedder, *common]}
    rep = Report("startup")
    repeats = args.repeats or (2 if args.quick else 5)
    times = {k: [] for k in runs}
    for _ in range(repeats):  # interleaved, so both see the same machine
        for key, argv in runs.items():
            times[key].append(_first_hop(argv))
    for key, t in times.items():
        rep.add_samples(f"first_hop/{key}", np.array(t))
    rep.extra["targets"] = {
        "demo_first_hop_le_2s": rep.stages["first_hop/demo"]["p50_ms"] <= 2000,
        "run_first_hop_le_5s": rep.stages["first_hop/run"]["p50_ms"] <= 5000}
    rep.extra["embedder"] = embedder
    rep.extra["demo_embedders"] = list(DEMO_EMBEDDERS)
    return rep
