"""``rtsim bench view``: the browser map's frame rate, and what browsers cost the engine.

1. **Frame rate**: a page of 10^5 points (a stand-in library: 20 clusters) in headless
   Chromium (software WebGL), turned continuously; frames drawn per second over 3-s
   windows, the points drawn per moving frame, and the frames an idle page draws (none).
2. **Hop timing beside browsers**: the engine plays the demo performance in real time
   (as ``bench latency``, ZeroMQ on), alternately alone and followed by ``rtsim view`` (its
   own process) with one WebSocket client that never reads (a stalled browser), and with
   two Chromium pages besides. Reported side by side: hop p50/p99, missed hops, and how
   many hops the pages got. On a small machine the pages' software rendering shares the
   engine's cores: the stalled-only runs separate the bridge's cost from the browsers'.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import types
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from rtsim.bench.core import Report
from rtsim.bench.scenarios.latency import engine_config, histogram_samples
from rtsim.bench.scenarios.live import OscTap
from rtsim.errors import ConfigError

__all__ = ["run", "synthetic_library", "frame_rate"]

POINTS = 100_000
#: engine runs: alone; followed by rtsim view with a stalled client only; with two Chromium
#: pages as well; the same with the engine thread under real-time scheduling ([engine]
#: priority = "realtime"; the others at normal priority). Each run twice, alternated.
CONDITIONS = ["none", "stalled", "browsers", "browsers-rt"]


def synthetic_library(n: int, seed: int = 0):
    """A stand-in library of ``n`` items in 20 clusters, for sizes no test folder has.

    It holds what the page reads: positions, names, files and folders.
    """
    from rtsim.index.metadata import Item

    rng = np.random.default_rng(seed)
    lab = rng.integers(0, 20, n)
    xyz = rng.standard_normal((20, 3))[lab] * 3 + rng.standard_normal((n, 3)) * 0.6
    items = [Item(name=f"s{i}", file=f"f{lab[i]}/s{i}.wav", offset_s=0.0, length_s=1.0,
                  labels={"folder": f"f{lab[i]}"}) for i in range(n)]
    return types.SimpleNamespace(count=n, xyz=xyz.astype(np.float32), all_items=lambda: items,
                                 manifest=types.SimpleNamespace(embedder="synthetic"),
                                 source_root=Path("/nonexistent"))


def frame_rate(browser, *, windows: int = 3, seconds: float = 3.0) -> list[float]:
    """Frames per second of a page turning its map, over ``windows`` windows."""
    browser.js("rtsimSpin(true)")
    time.sleep(2.0)  # the drawn subset settles to the frame time
    rates = []
    for _ in range(windows):
        f0, t0 = browser.js("rtsimView.frames"), time.monotonic()
        time.sleep(seconds)
        rates.append((browser.js("rtsimView.frames") - f0) / (time.monotonic() - t0))
    browser.js("rtsimSpin(false)")
    return rates


def _frames(rep: Report, seconds: float) -> None:
    from rtsim.view.browser import Browser
    from rtsim.view.server import ViewServer

    srv = ViewServer(synthetic_library(POINTS), port=0).start()
    try:
        with tempfile.TemporaryDirectory() as d, Browser(srv.url, Path(d)) as b:
            b.wait_for("window.rtsimView && (rtsimView.ready || rtsimView.error)", 120)
            b.wait_for("rtsimView.drawn === rtsimView.count && !rtsimView.moving", 30)
            f0 = b.js("rtsimView.frames")
            time.sleep(1.0)
            idle = b.js("rtsimView.frames") - f0
            rates = frame_rate(b, seconds=seconds)
            budget = b.js("rtsimView.budget")
            b.wait_for("rtsimView.drawn === rtsimView.count && !rtsimView.moving", 30)
        rep.extra["frame_rate"] = {"points": POINTS, "window": "1000x700",
                                   "fps_windows": [round(r, 1) for r in rates],
                                   "fps_median": float(np.median(rates)),
                                   "points_per_moving_frame": budget,
                                   "idle_frames_per_s": idle}
        rep.extra["targets"] = {"fps_ge_30_at_1e5": float(np.median(rates)) >= 30}
    finally:
        srv.stop()


def _view_process(library: Path, endpoint: str):
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from rtsim.cli.main import main; sys.exit(main())",
         "view", str(library), "--connect", endpoint, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("rtsim view: "):
        proc.kill()
        raise ConfigError(f"rtsim view did not start: {line!r}")
    return proc, line.split()[2]


def _stalled_client(url: str, connect):
    """A WebSocket client that never reads, with a 4-KiB receive buffer: it stalls at once."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((where.hostname, where.port))
    return connect(url.replace("http", "ws") + "live", sock=sock, max_queue=1)


def _engine_run(args, clip, library: Path, endpoint: str, seconds: float, priority: str):
    from rtsim.engine.wiring import build_engine

    tap = OscTap(keep=False)
    cfg = engine_config(args, clip=clip, libraries={"sample": library}, osc_port=tap.port,
                        extra={"zmq": {"enabled": True, "endpoint": endpoint},
                               "engine": {"priority": priority}})
    engine = build_engine(cfg)
    engine.run(duration=seconds)
    for pub in engine.publishers:
        pub.close()
    tap.close()
    status = engine.status()
    return engine.timer.stages["hop"], status.hops, status.missed_hops


def _beside_browsers(args, rep: Report, seconds: float) -> None:
    from websockets.sync.client import connect

    from rtsim.demo.data import ensure_demo
    from rtsim.view.browser import Browser

    demo = ensure_demo(embedder="sample", device=args.device, progress=False)
    endpoint = "tcp://127.0.0.1:5597"
    from rtsim.engine.runtime import realtime_permitted

    conditions = [c for c in CONDITIONS if realtime_permitted() or not c.endswith("-rt")]
    if len(conditions) < len(CONDITIONS):
        rep.notes.append("real-time scheduling is not permitted here: browsers-rt not run")
    samples: dict[str, list] = {v: [] for v in conditions}
    for run, viewers in enumerate(conditions * 2):
        # the browsers (in the stack) close before their profile folder is removed
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as d, ExitStack() as stack:
            pages, stalled = [], None
            if viewers != "none":
                proc, url = _view_process(demo.library, endpoint)
                stack.callback(lambda p=proc: (p.terminate(), p.wait(10)))
                for i in range(2 if viewers.startswith("browsers") else 0):
                    b = stack.enter_context(Browser(url, Path(d) / f"p{i}", size=(640, 400)))
                    b.wait_for("window.rtsimView && rtsimView.ready && rtsimView.connected", 60)
                    pages.append(b)
                stalled = stack.enter_context(_stalled_client(url, connect))
            hist, hops, missed = _engine_run(args, demo.clip, demo.library, endpoint, seconds,
                                             "realtime" if viewers.endswith("-rt") else "normal")
            hop = hist.summary_ms()
            samples[viewers].append(histogram_samples(hist))
            got = [p.js("rtsimView.hops") for p in pages]
            rep.rows.append({"run": run, "viewers": viewers,
                             "hop_p50_ms": hop["p50_ms"], "hop_p99_ms": hop["p99_ms"],
                             "hops": hops, "missed_hops": missed, "pages_got_hops": got,
                             "stalled_client": stalled is not None})
    for viewers in conditions:
        rep.add_samples(f"hop, {viewers}", np.concatenate(samples[viewers]))
        rows = [r for r in rep.rows if r.get("viewers") == viewers]
        rep.extra[f"hop_p99_ms_{viewers}"] = [r["hop_p99_ms"] for r in rows]
        rep.extra[f"missed_{viewers}"] = sum(r["missed_hops"] for r in rows)


def run(args) -> Report:
    """Frame rate at 10^5 points, then hop timing alone and beside browsers."""
    from rtsim.view.browser import chromium_path

    if chromium_path() is None:
        raise ConfigError("bench view needs Debian's chromium (apt-get install chromium)")
    args.embedders = args.embedders or "sample"
    seconds = args.seconds or (4.0 if args.quick else 15.0)
    rep = Report("view")
    _frames(rep, 2.0 if args.quick else 3.0)
    _beside_browsers(args, rep, seconds)
    rep.notes.append("frame rate: headless Chromium, WebGL through SwiftShader (no GPU); the "
                     "engine runs in this process, rtsim view and the browsers in their own")
    return rep
