"""``rtsim bench latency``: the whole engine fed in real time, measured end to end.

The demo performance (or the virtual ALSA device with ``--source live``) streams at real
time through every configured embedder against libraries of ``--library-size`` vectors;
OSC goes to a loopback receiver that stamps each bundle on arrival. Reported: each
engine stage's compute time, the end-to-end latency from the capture time of a hop's
newest sample (the bundle's timetag) to the datagram's arrival, missed hops, drops and
CPU load. ``--busy`` keeps the other core busy the whole time.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rtsim.bench.core import Report, summary
from rtsim.bench.scenarios.live import OscTap, bench_library, busy_core, cpu_seconds

BLOCK = 128  # frames per audio block: 2.9 ms at 44.1 kHz, a low-latency interface setting


def engine_config(args, *, clip, libraries: dict, osc_port: int, loop: bool = True,
                  extra: dict | None = None):
    """The config the engine scenarios run.

    ``extra``: more sections (e.g. ``play``); its ``engine`` keys join the engine section.
    """
    from rtsim.engine.config import load_config

    extra = dict(extra or {})

    default, backends = parse_backends(getattr(args, "backend", None) or "eager")
    source = ({"kind": "file", "path": str(clip), "loop": loop, "realtime": True,
               "block": BLOCK} if args.source == "file" else
              {"kind": "live", "device": "rtsim_test", "block": BLOCK})
    return load_config(None, patch={
        "source": source,
        "engine": {"device": args.device, "threads": args.threads,
                   "search": getattr(args, "search", None) or "auto",
                   **({"switch_interval_ms": args.switch_interval_ms}
                      if getattr(args, "switch_interval_ms", None) else {}),
                   **extra.pop("engine", {})},
        "embedder": [{"name": n, "library": str(lib), "k": 5, "backend": backends.get(n, default),
                      "update_divisor": args.update_divisor,
                      "stability": args.stability}
                     for n, lib in libraries.items()],
        "osc": {"port": osc_port, "timetag": "capture"},
        "zmq": {"enabled": False},
        "control": {"enabled": False},
        **extra,
    })


def parse_backends(text: str) -> tuple[str, dict[str, str]]:
    """``"compile"`` or ``"timbre=torchscript,disentangled=compile"`` -> (default, per name).

    Raises
    ------
    ConfigError
        For a malformed item (backend names are checked by the engine config).
    """
    from rtsim.errors import ConfigError

    if "=" not in text:
        return text, {}
    per = {}
    for item in text.split(","):
        name, sep, backend = item.partition("=")
        if not sep or not name or not backend:
            raise ConfigError(f"--backend item {item!r} must look like name=backend")
        per[name] = backend
    return "eager", per


@contextmanager
def profiled(path: str | None, top: int = 40):
    """Profile this thread (the engine's, in ``bench latency``) into ``path``; no-op if None.

    The profiler's own cost inflates the stage times of that run: profile in a separate run
    from the one whose figures are reported.
    """
    if path is None:
        yield
        return
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
        Path(path).write_text(out.getvalue())


def histogram_samples(hist) -> np.ndarray:
    """Approximate samples (bin upper edges repeated by count) for CDF plots."""
    edges = 1e-6 * 10 ** (np.arange(len(hist.counts)) / 60)
    return np.repeat(edges, hist.counts)


def run(args) -> Report:
    """Run the engine for ``--seconds`` and report."""
    from rtsim.demo.data import ensure_demo
    from rtsim.engine.wiring import build_engine

    seconds = args.seconds or (4.0 if args.quick else 60.0)
    rows = int(args.library_size or (2e3 if args.quick else 1e6))
    names = args.embedders.split(",") if args.embedders else ["pca"]
    libraries = {n: bench_library(n, rows, device=args.device,
                                  index=getattr(args, "index", None) or "auto")
                 for n in names}
    clip = ensure_demo(device=args.device, progress=False).clip
    tap = OscTap()
    cfg = engine_config(args, clip=clip, libraries=libraries, osc_port=tap.port)
    engine = build_engine(cfg)
    with busy_core(args.busy), profiled(getattr(args, "profile", None)):
        c0, w0 = cpu_seconds(), time.perf_counter()
        engine.run(duration=seconds)
        cpu, wall = cpu_seconds() - c0, time.perf_counter() - w0
    for pub in engine.publishers:
        pub.close()
    time.sleep(0.2)
    grams = tap.close()
    rep = Report("latency")
    for name, hist in engine.timer.stages.items():
        rep.stages[name] = hist.summary_ms()
        rep.samples[name] = histogram_samples(hist)
    hops = [g for g in grams if any(a.endswith("/seq") and not a.startswith("/rtsim/status")
                                    for a, _ in g.messages)]
    e2e = np.array([g.arrival - g.capture_time for g in hops])
    rep.extra["end_to_end"] = summary(e2e)
    rep.samples["end_to_end"] = e2e
    status = engine.status()
    rep.extra.update(
        cdf=True, hops=status.hops, missed_hops=status.missed_hops,
        dropped_samples=status.dropped_samples, xruns=status.xruns,
        received_hop_bundles=len(hops), cpu_load=cpu / wall, seconds=wall,
        embedders=names, library_rows=rows, block=BLOCK, busy_core=args.busy,
        update_divisor=args.update_divisor, device=args.device,
        backend=getattr(args, "backend", None) or "eager",
        search={p.name: p.library.search_backend for p in engine.pipelines},
        device_hop={p.name: None if p.device_hop is None else
                    ("cudagraph" if p.device_hop.captured else "eager")
                    for p in engine.pipelines},
        frontend_graphs=[tap.frontend.graphed for tap, _ in engine.router.frontends.values()],
    )
    hop = rep.stages["hop"]
    rep.extra["targets"] = {"hop_p99_le_10ms": hop["p99_ms"] <= 10.0,
                            "zero_missed_hops": status.missed_hops == 0}
    if getattr(args, "profile", None):
        rep.notes.append("profiled run: the profiler's cost is in these stage times")
    rep.notes.append("end_to_end = OSC arrival - capture time of the hop's newest sample; it "
                     f"includes the audio block ({BLOCK} frames) and the engine's wait for it")
    return rep
