"""``rtsim bench event``: from a sound's first sample to the first OSC match that names it.

Tone bursts (55 Hz … 3.5 kHz) and clicks are played in real time through the engine,
against a library holding one one-shot of each. For each burst the receiver finds the
first hop bundle, and the first trigger, whose best match names that burst. The latency
splits into

- physics: capture time of that hop's newest sample minus the burst's first sample (the
  audio the engine had to hear: kernel length of the bins that carry the sound, the
  window, hop quantisation, the resampler's filter);
- compute and transport: arrival of the datagram minus that capture time.

It runs once per update divisor (``--update-divisor``; the full run compares 1 and 4): a
divisor of 4 gives a new embedding every quarter frame on interleaved frame grids.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import soundfile as sf

from rtsim.bench.core import Report
from rtsim.bench.scenarios.latency import engine_config
from rtsim.bench.scenarios.live import OscTap, busy_core

SR = 44100
FREQS = (55, 110, 220, 440, 880, 1760, 3520)
BURST_S, GAP_S = 0.4, 0.8


def _burst(freq: float | None, seconds: float = BURST_S) -> np.ndarray:
    n = int(seconds * SR)
    if freq is None:  # a click: 2 ms of decaying noise
        x = np.zeros(n, np.float32)
        k = int(0.002 * SR)
        x[:k] = np.random.default_rng(0).uniform(-1, 1, k) * np.exp(-np.arange(k) / (k / 4))
        return 0.8 * x
    t = np.arange(n) / SR
    ramp = np.minimum(1, np.minimum(t, seconds - t) / 0.005)
    return (0.5 * ramp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _name(freq) -> str:
    return "click" if freq is None else f"burst_{freq}"


def event_library(embedder: str, device: str):
    """A library of one burst per frequency and a click (built once, cached)."""
    from rtsim.demo.data import cache_dir
    from rtsim.embed import get
    from rtsim.index import Library
    from rtsim.index.build import build_library

    root = cache_dir() / "bench" / f"event-{embedder.replace('/', '_')}"
    plugin = get(embedder)
    try:
        Library.open(root / "lib").load_embedder(plugin, device=device)
    except Exception:
        (root / "samples").mkdir(parents=True, exist_ok=True)
        for f in (*FREQS, None):
            sf.write(root / "samples" / f"{_name(f)}.wav", _burst(f, 0.5), SR)
        build_library(root / "samples", root / "lib", plugin=plugin, device=device,
                      progress=False, existing="overwrite")
    return root / "lib"


def _performance(path, freqs, reps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    order = [f for _ in range(reps) for f in rng.permutation(np.array(freqs, object))]
    x = np.zeros(int((len(order) * (BURST_S + GAP_S) + 1.0) * SR), np.float32)
    onsets = []
    for i, f in enumerate(order):
        s = int((0.5 + i * (BURST_S + GAP_S)) * SR)
        b = _burst(f)
        x[s : s + b.size] += b
        onsets.append((s, f))
    sf.write(path, x, SR, subtype="FLOAT")
    return onsets


def _measure(args, lib, clip, onsets, embedder, divisor, stability=0.0):
    from rtsim.engine.wiring import build_engine

    tap = OscTap()
    cfg = engine_config(replace_ns(args, update_divisor=divisor, stability=stability), clip=clip,
                        libraries={embedder: lib}, osc_port=tap.port, loop=False)
    engine = build_engine(cfg)
    with busy_core(args.busy):
        engine.run()
    for pub in engine.publishers:
        pub.close()
    time.sleep(0.2)
    grams = tap.close()
    t0 = engine.source.start_time
    name0, trig = f"/rtsim/{embedder}/name/0", f"/rtsim/{embedder}/trigger/name"
    out = []
    for sample, f in onsets:
        t_on = t0 + sample / SR
        limit = t_on + BURST_S + 0.5
        hop = next((g for g in grams if t_on <= g.capture_time <= limit
                    and (g.get(name0) or ("",))[0] == _name(f)), None)
        tr = next((g for g in grams if t_on - 0.01 <= g.arrival <= limit
                   and (g.get(trig) or ("",))[0] == _name(f)), None)
        out.append({"band": _name(f), "hop_ms": None if hop is None else
                    (hop.arrival - t_on) * 1e3,
                    "physics_ms": None if hop is None else (hop.capture_time - t_on) * 1e3,
                    "compute_ms": None if hop is None else (hop.arrival - hop.capture_time)
                    * 1e3, "trigger_ms": None if tr is None else (tr.arrival - t_on) * 1e3})
    return out, engine


def replace_ns(ns: argparse.Namespace, **kw) -> argparse.Namespace:
    """A copy of a namespace with some attributes replaced."""
    return argparse.Namespace(**{**vars(ns), **kw})


def run(args) -> Report:
    """Measure each band's event latency for each update divisor."""
    from rtsim.embed import get
    from rtsim.features import make_frontend

    embedder = (args.embedders or "pca").split(",")[0]
    freqs = (440, 1760, None) if args.quick else (*FREQS, None)
    reps = 1 if args.quick else max(1, int((args.seconds or 60) / (len(freqs) * 1.2)))
    divisors = (args.update_divisor,) if args.quick or args.update_divisor != 1 else (1, 4)
    lib = event_library(embedder, args.device)
    from rtsim.demo.data import cache_dir

    clip = cache_dir() / "bench" / "event-performance.wav"
    onsets = _performance(clip, freqs, reps)
    fe = make_frontend(get(embedder).spec.frontend)
    rep = Report("event")
    stab = args.stability
    runs = [(u, 0.0) for u in divisors] + ([(divisors[0], stab)] if stab else [])
    for u, st in runs:
        results, engine = _measure(args, lib, clip, onsets, embedder, u, st)
        tag = f"u{u}" + (f"/stability{st:g}" if st else "")
        rep.stages[f"hop_compute/{tag}"] = engine.timer.stages["hop"].summary_ms()
        missed = engine.status().missed_hops  # late hops skipped: a click can fall in one
        for f in freqs:
            band = [r for r in results if r["band"] == _name(f)]
            hit = [r for r in band if r["hop_ms"] is not None]
            trig = [r["trigger_ms"] for r in band if r["trigger_ms"] is not None]
            row = {"divisor": u, "stability": st, "band": _name(f), "bursts": len(band),
                   "named": len(hit), "missed_hops": missed,
                   "kernel_delay_ms": float("nan") if f is None else 1e3 * float(
                       fe.properties.bin_delay_s[np.argmin(np.abs(fe.properties.frequencies
                                                                  - f))])}
            for key in ("hop_ms", "physics_ms", "compute_ms"):
                row[key.replace("_ms", "_p50_ms")] = float(
                    np.median([r[key] for r in hit])) if hit else float("nan")
            row["trigger_p50_ms"] = float(np.median(trig)) if trig else float("nan")
            rep.rows.append(row)
            if hit:
                rep.add_samples(f"{_name(f)}/{tag}", np.array([r["hop_ms"] for r in hit]) / 1e3)
    if len(divisors) > 1:
        for f in freqs:
            a, b = f"{_name(f)}/u1", f"{_name(f)}/u{divisors[-1]}"
            if a in rep.stages and b in rep.stages:
                rep.ratio(b, a)
    for f in freqs if stab else ():  # what holding the best match costs a new sound
        a, b = f"{_name(f)}/u{divisors[0]}", f"{_name(f)}/u{divisors[0]}/stability{stab:g}"
        if a in rep.stages and b in rep.stages:
            rep.ratio(b, a)
    above = [r for r in rep.rows if r["divisor"] == divisors[0] and not r["stability"]
             and r["band"] != "click"
             and int(r["band"].split("_")[1]) >= 440]
    med = float(np.nanmedian([r["hop_p50_ms"] for r in above])) if above else float("nan")
    rep.extra["above_440Hz_p50_ms"] = med
    rep.extra["targets"] = {"event_above_440Hz_p50_le_60ms": med <= 60}
    rep.extra["embedder"] = embedder
    rep.notes.append("physics = capture time of the naming hop's newest sample - burst onset; "
                     "compute = datagram arrival - that capture time")
    return rep
