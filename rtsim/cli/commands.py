"""The subcommands behind ``rtsim`` (imported only when one runs)."""

from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from rtsim.errors import ConfigError

log = logging.getLogger("rtsim")


# -- run / demo ----------------------------------------------------------------------
def cli_patch(args: argparse.Namespace) -> dict[str, Any]:
    """Config values set by command-line flags."""
    src: dict[str, Any] = {}
    if getattr(args, "source", None):
        src["kind"] = args.source
    if getattr(args, "input", None):
        src.update(kind="file", path=args.input)
    if getattr(args, "input_device", None):
        dev = args.input_device
        src.update(kind="live", device=int(dev) if dev.isdigit() else dev)
    if getattr(args, "channels", None):
        try:
            src["channels"] = [int(c) for c in args.channels.split(",")]
        except ValueError as exc:
            raise ConfigError(f"--channels={args.channels!r} must be like 0 or 0,1") from exc
    for flag in ("rate", "block", "signal"):
        if getattr(args, flag, None) is not None:
            src[flag] = getattr(args, flag)
    if getattr(args, "loop", False):
        src["loop"] = True
    if getattr(args, "fast", False):
        src["realtime"] = False
    patch: dict[str, Any] = {"source": src} if src else {}
    if getattr(args, "library", None):
        emb = {"name": args.embedder or _library_embedder(args.library),
               "library": args.library}
        if getattr(args, "k", None):
            emb["k"] = args.k
        patch["embedder"] = [emb]
    elif getattr(args, "embedder", None) and args.command == "run":
        raise ConfigError("--embedder needs --library (the library built for it)")
    if args.osc:
        host, _, port = args.osc.rpartition(":")
        if not port.isdigit():
            raise ConfigError(f"--osc={args.osc!r} must be HOST:PORT")
        patch["osc"] = {"host": host or "127.0.0.1", "port": int(port)}
    if args.no_osc:
        patch.setdefault("osc", {})["enabled"] = False
    if args.zmq:
        patch["zmq"] = {"endpoint": args.zmq}
    if args.no_zmq:
        patch.setdefault("zmq", {})["enabled"] = False
    if args.device:
        patch["engine"] = {"device": args.device}
    play = _play_patch(args)
    if play:
        patch["play"] = play
    return patch


def _play_patch(args: argparse.Namespace) -> dict[str, Any]:
    """``[play]`` values from ``--play``, ``--play-to`` and ``--play-mode``."""
    play: dict[str, Any] = {}
    if getattr(args, "play", False) or getattr(args, "play_to", None):
        play["enabled"] = True
    if getattr(args, "play_to", None):
        play["to_file"] = args.play_to
        clip = getattr(args, "input", None)
        if clip:  # the input beside the matches: first channel, matches on the second
            play["input_path"] = clip
    if getattr(args, "play_mode", None):
        play["mode"] = args.play_mode
    return play


def cmd_run(args: argparse.Namespace) -> int:
    """``rtsim run``."""
    from rtsim.engine.config import load_config, to_toml
    from rtsim.index.paths import library_folder

    patch = cli_patch(args)
    if args.config is None and "kind" not in patch.get("source", {}):
        patch.setdefault("source", {})["kind"] = "live"  # no config: the default input device

    def read():
        return load_config(args.config, patch=patch, overrides=args.set)

    cfg = read()
    for e in cfg.embedder:  # paths first: a wrong one is reported before torch loads
        if e.enabled:
            library_folder(e.library)
    if args.save_config:
        Path(args.save_config).write_text(to_toml(cfg))
    return serve(cfg, duration=args.duration, view=not args.no_view,
                 reload=(lambda: _factory(read())) if args.config else None)


def cmd_demo(args: argparse.Namespace) -> int:
    """``rtsim demo``: render and index the demo once, then stream the clip live."""
    from rtsim.demo.data import ensure_demo
    from rtsim.engine.config import load_config
    from rtsim.features.device import resolve_device

    t0 = time.perf_counter()
    device = resolve_device(args.device or "auto")
    if args.stems:
        return _stems_demo(args, device, t0)
    names = args.embedder.split(",")
    assets = {n: ensure_demo(embedder=n, device=device, progress=True) for n in names}
    first = assets[names[0]]
    patch = {
        "source": {"kind": "file", "path": str(first.clip), "loop": args.loop,
                   "realtime": not (args.fast or args.play_to)},
        "embedder": [{"name": n, "library": str(a.library), "k": 5} for n, a in assets.items()],
        "engine": {"device": device},
    }
    from rtsim.engine.config import merge

    if args.play or args.play_to:  # the first embedder's matches play; the others stay off
        patch["play"] = {"modes": {n: "off" for n in names[1:]}}
    if args.play_to:  # the performance on the first channel, its matches on the second
        patch["play"]["input_path"] = str(first.clip)
    cfg = load_config(None, patch=merge(patch, cli_patch(args)), overrides=args.set)
    print(f"rtsim demo: {len(first.score)} notes from {first.samples} -> OSC "
          f"{cfg.osc.host}:{cfg.osc.port}" + ("" if cfg.osc.enabled else " (off)")
          + f", ZeroMQ {cfg.zmq.endpoint}" + ("" if cfg.zmq.enabled else " (off)"))
    if cfg.zmq.enabled:
        print(f"  see it: rtsim view {first.library} --connect {cfg.zmq.endpoint}")
    return serve(cfg, duration=args.duration, view=not args.no_view, started=t0)


def _stems_demo(args, device: str, t0: float) -> int:
    """One stem embedder per input channel, and the mix embedder on the mix of all."""
    from rtsim.demo.data import ensure_stems_demo
    from rtsim.demo.songs import STEMS
    from rtsim.engine.config import load_config, merge

    demo = ensure_stems_demo(device=device, progress=True)
    patch = {
        "source": {"kind": "file", "path": str(demo.clip), "loop": args.loop,
                   "realtime": not args.fast, "channels": list(range(len(STEMS)))},
        "embedder": [{"name": f"stem/{s}", "library": str(demo.libraries[s]), "k": 3,
                      "channel": i} for i, s in enumerate(STEMS)]
        + [{"name": "stem/mix", "library": str(demo.libraries["mix"]), "k": 3}],
        "engine": {"device": device},
    }
    cfg = load_config(None, patch=merge(patch, cli_patch(args)), overrides=args.set)
    print(f"rtsim demo --stems: channels {', '.join(f'{i}={s}' for i, s in enumerate(STEMS))}"
          f" and the mix -> OSC {cfg.osc.host}:{cfg.osc.port} (/rtsim/stem/<name>/...)")
    return serve(cfg, duration=args.duration, view=not args.no_view, started=t0)


def _factory(cfg):
    from rtsim.engine.wiring import build_engine

    def build(extra=()):
        return build_engine(cfg, extra_publishers=extra)

    return build


def serve(cfg, *, duration: float | None, view: bool, reload=None,
          started: float | None = None) -> int:
    """Run an engine for ``cfg`` with the terminal view until done or signalled."""
    from rtsim.cli.view import TerminalView
    from rtsim.engine.lifecycle import Lifecycle

    t0 = started if started is not None else time.perf_counter()
    tv = TerminalView(title=f"rtsim · {', '.join(e.name for e in cfg.embedder)}")
    factory = _factory(cfg)

    def on_reload():
        new = reload()  # reads and validates the new config now; raises if it is invalid
        return lambda: new([tv])

    lc = Lifecycle(lambda: factory([tv]), on_reload=on_reload if reload else None)
    lc.install_signals()
    deadline = None if duration is None else time.monotonic() + duration
    try:
        lc.start()
        tv.live(lambda: lc.done or (deadline is not None and time.monotonic() >= deadline),
                interactive=None if view else False)
    finally:
        lc.stop()
        lc.close()
        lc.restore_signals()
    _summary(lc.engine, t0)
    return 0


def _summary(engine, t0: float) -> None:
    s = engine.status()
    hop = engine.timer.stages["hop"].summary_ms()
    first = engine.first_hop_at - engine.started_at if engine.first_hop_at else float("nan")
    print(f"hops {s.hops}, missed {s.missed_hops}, triggers {s.counters['triggers']}, "
          f"xruns {s.xruns}, dropped samples {s.dropped_samples}, bad samples {s.bad_samples}; "
          f"hop compute p50 {hop['p50_ms']:.2f} ms, p99 {hop['p99_ms']:.2f} ms; "
          f"first hop {first:.2f} s after start")


# -- devices / schema ------------------------------------------------------------------
def cmd_devices(args: argparse.Namespace) -> int:
    """``rtsim devices``."""
    from rtsim.audio.devices import format_devices, list_input_devices

    print(format_devices(list_input_devices()))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """``rtsim schema``."""
    from rtsim.publish.schema import render_reference

    print(render_reference(), end="")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """``rtsim keys OUT``: server and client CURVE certificates for the control socket."""
    import zmq
    import zmq.auth

    if not zmq.has("curve"):
        raise ConfigError("this libzmq has no CURVE support")
    if args.out.exists() and any(args.out.iterdir()):
        raise ConfigError(f"refusing to write keys into {args.out}: it is not empty")
    (args.out / "clients").mkdir(parents=True, exist_ok=True)
    server_public, server_secret = zmq.auth.create_certificates(args.out, "server")
    for i in range(args.clients):
        public, _ = zmq.auth.create_certificates(args.out, f"client{i}")
        shutil.copy(public, args.out / "clients")
    print(f"[control]\ncurve_secret = \"{server_secret}\"\n"
          f"curve_clients = \"{args.out / 'clients'}\"\n"
          f"# give each client its client<N>.key_secret and the server's public "
          f"{server_public}")
    return 0


# -- index / query ---------------------------------------------------------------------
def cmd_index_build(args: argparse.Namespace) -> int:
    """``rtsim index build``."""
    from rtsim.index.paths import audio_folder, check_destination

    existing = "replace" if args.replace else "update" if args.update else "refuse"
    audio_folder(args.folder)  # paths first: a wrong one is reported before torch loads
    check_destination(Path(args.out).expanduser(), existing)
    from rtsim.embed import get
    from rtsim.features.device import resolve_device
    from rtsim.index import IndexSpec
    from rtsim.index.build import BuildConfig, build_library

    config = BuildConfig(oneshot_max_s=args.oneshot_max_s, oneshot_vectors=args.oneshot_vectors,
                         segment=args.segment,
                         segment_max_s=args.segment_max_s,
                         max_items_per_file=args.max_items_per_file,
                         index=IndexSpec(kind=args.index, ram_max_mb=args.ram_max_mb))
    runner = None
    if args.ray is not None:
        from rtsim.index.distributed import ray_runner

        runner = ray_runner(None if args.ray == "local" else args.ray,
                            files_per_task=args.files_per_task, num_gpus=args.ray_gpus)
    report = build_library(
        args.folder, args.out, plugin=get(args.embedder), device=resolve_device(args.device),
        config=config, progress=not args.no_progress, existing=existing, runner=runner,
    )
    m = report.manifest
    print(f"{args.out}: {m.count} items ({m.rows} vectors, {m.dim}-d {m.metric}, "
          f"{m.index_kind} index) from {report.files_indexed} files in {report.seconds:.1f} s")
    if args.update:
        print(f"  updated: {report.kept} files unchanged, {report.files_indexed - report.kept} "
              f"embedded, {report.removed} removed")
    if report.backup:
        print(f"  the previous library is kept as {report.backup}")
    for reason, files in report.skipped.items():
        print(f"  skipped {len(files)} ({reason}): " + ", ".join(files[:5])
              + (" ..." if len(files) > 5 else ""))
    return 0


def cmd_index_info(args: argparse.Namespace) -> int:
    """``rtsim index info``."""
    from rtsim.index.paths import library_folder

    library_folder(args.library)
    from rtsim.features import describe, spec_from_dict
    from rtsim.index import Library

    lib = Library.open(args.library)
    m = lib.manifest
    rows = [
        ("embedder", f"{m.embedder} ({'fitted on this library' if m.fitted else 'weights'} "
                     f"{m.weights_hash[:12]})"),
        ("front end", describe(spec_from_dict(m.frontend))),
        ("items", f"{m.count} ({m.rows} vectors)"),
        ("vectors", f"{m.dim}-d, metric {m.metric}, {m.index_kind} index"),
        ("map", f"xyz from {m.xyz}"),
        ("built", f"{m.built_at} by rtsim {m.rtsim_version}"),
        ("source", f"{m.source.get('folder')}: {m.source.get('files_indexed')} files indexed, "
                   f"skipped {_skipped(m.source.get('skipped'))}"),
        ("memory", _memory_table(m)),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:>{width}}  {v}")
    return 0


def _memory_table(m) -> str:
    """Memory each index kind needs for this library (RAM, and disk read on demand)."""
    from rtsim.index.faiss_index import memory_needed

    def size(b: int) -> str:
        return next(f"{b / 2**e:.1f} {u}" for e, u in ((30, "GiB"), (20, "MiB"), (10, "KiB"),
                                                          (0, "B")) if b >= 2**e or e == 0)

    lines = [f"{kind + (' (this one)' if kind == m.index_kind else ''):<16} RAM {size(v['ram'])}"
             + (f", disk {size(v['disk'])}" if v["disk"] else "")
             for kind, v in memory_needed(m.rows, m.dim).items()]
    return "per index kind\n" + "\n".join(f"    {line}" for line in lines)


def cmd_index_export(args: argparse.Namespace) -> int:
    """``rtsim index export``."""
    from rtsim.index.paths import library_folder

    library_folder(args.library)
    from rtsim.index import Library
    from rtsim.index.export import export_library

    lib = Library.open(args.library)
    for path in export_library(lib, args.out, fmt=args.format, what=args.what):
        print(f"wrote {path}")
    print(f"{lib.count} items, {args.what} ({lib.manifest.dim if args.what == 'vectors' else 3}"
          f"-d), {args.format}")
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    """``rtsim view``: serve the map until Ctrl-C."""
    from rtsim.index.paths import library_folder

    library_folder(args.library)
    from rtsim.view.server import open_view

    server = open_view(args.library, host=args.host, port=args.port, connect=args.connect)
    server.start()
    follows = f", following {args.connect}" if args.connect else " (library only)"
    print(f"rtsim view: {server.url}  ({server.library.count} items, "
          f"{server.library.manifest.embedder}{follows}); Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _skipped(counts: dict | None) -> str:
    """``{"silent": 1, "truncated": 2}`` -> ``"3 (1 silent, 2 truncated)"``; ``"none"``."""
    if not counts:
        return "none"
    return f"{sum(counts.values())} (" + ", ".join(f"{n} {why}" for why, n in counts.items()) + ")"


def cmd_query(args: argparse.Namespace) -> int:
    """``rtsim query``."""
    from rtsim.index.paths import library_folder

    library_folder(args.library)
    if args.audio is not None and not Path(args.audio).is_file():
        raise ConfigError(f"audio file not found: {args.audio}")
    from rtsim.audio.files import load_audio
    from rtsim.embed import get
    from rtsim.features.device import resolve_device
    from rtsim.index import Library
    from rtsim.index.build import embed_windows, file_windows

    lib = Library.open(args.library)
    device = resolve_device(args.device)
    emb = lib.load_embedder(get(lib.manifest.embedder), device=device)
    lib.use_device(device)  # on CUDA the library is searched on the GPU, exactly
    spec = emb.spec
    examples = _examples(args)
    if examples or args.weights:
        return _query_by_examples(args, lib, emb, examples)
    if args.audio is None:
        raise ConfigError("give an AUDIO file to query, or examples such as --genre A.wav")
    x, _ = load_audio(args.audio, sr=spec.frontend.sr)
    build = lib.manifest.build_config
    fw = file_windows(x, frontend=emb.frontend(), window=spec.window, hop=spec.hop,
                      oneshot_max_s=float(build.get("oneshot_max_s", 5.0)),
                      silence_db=float(build.get("silence_db", -60.0)))
    if len(fw.windows) == 0:
        print(f"{args.audio}: silent, nothing to match")
        return 0
    vectors = embed_windows(emb, fw.windows, batch=256)
    if fw.oneshot:
        print(f"{args.audio} (one-shot, {len(vectors)} windows):")
        _print_matches(lib, *best_items(lib, vectors, args.k))
        return 0
    next_t = 0.0
    for t, v in zip(fw.ends_s, vectors, strict=True):
        if t + 1e-9 >= next_t:
            print(f"{args.audio} @ {t:.2f} s:")
            _print_matches(lib, *lib.search(v, args.k))
            next_t = t + args.every
    return 0


def _examples(args) -> dict[str, str]:
    out = {d: getattr(args, d) for d in ("genre", "mood", "instrument", "tempo")
           if getattr(args, d, None)}
    for item in args.example:
        name, sep, path = item.partition("=")
        if not sep:
            raise ConfigError(f"--example {item!r} must look like SUBSPACE=AUDIO")
        out[name] = path
    return out


def _query_by_examples(args, lib, emb, examples: dict[str, str]) -> int:
    """Lee et al.'s query by several examples: each subspace from its own clip."""
    import numpy as np

    from rtsim.index.build import clip_vector

    names = [s.name for s in emb.spec.subspaces]
    unknown = sorted(set(examples) - set(names))
    if unknown:
        raise ConfigError(f"{emb.spec.name} has no subspace {unknown}; it has {names}")
    base = clip_vector(emb, args.audio) if args.audio else None
    query = np.zeros(emb.spec.dim, np.float32)
    weights = np.zeros(len(names), np.float32)
    for i, s in enumerate(emb.spec.subspaces):
        src = clip_vector(emb, examples[s.name]) if s.name in examples else base
        if src is not None:
            query[s.start : s.stop] = src[s.start : s.stop]
            weights[i] = 1.0
    if args.weights:
        try:
            weights = np.array([float(w) for w in args.weights.split(",")], np.float32)
        except ValueError as exc:
            raise ConfigError(f"--weights={args.weights!r} must be numbers") from exc
    if len(weights) != len(names) or not (weights >= 0).all() or not weights.any():
        raise ConfigError(f"weights {weights.tolist()} must be {len(names)} numbers >= 0, "
                          "not all zero")
    parts = [f"{n}={examples.get(n, args.audio)}" for n, w in zip(names, weights, strict=True)
             if w > 0]
    print("query: " + ", ".join(parts) + f" (weights {weights.tolist()})")
    _print_matches(lib, *lib.search(query, args.k, weights=weights))
    return 0


def best_items(lib, vectors, k: int):
    """Top-k items over several query vectors (an item's distance: its best over all)."""
    import numpy as np

    best: dict[int, float] = {}
    for v in vectors:
        for i, d in zip(*lib.search(v, k), strict=True):
            best[int(i)] = min(best.get(int(i), np.inf), float(d))
    order = sorted(best, key=best.get)[:k]
    return np.array(order, np.int64), np.array([best[i] for i in order], np.float32)


def _print_matches(lib, ids, distances) -> None:
    for rank, (i, d) in enumerate(zip(ids, distances, strict=True)):
        item = lib.items([i])[0]
        where = "" if item.offset_s == 0 else f" @ {item.offset_s:.2f} s"
        print(f"  {rank}. {item.name:<40} distance {d:.4f}   ({item.file}{where})")


def _library_embedder(library: str) -> str:
    """The embedder a library was built with (its manifest), for ``--library`` alone."""
    from rtsim.index.manifest import Manifest
    from rtsim.index.paths import MANIFEST, library_folder

    return Manifest.read(library_folder(library) / MANIFEST).embedder
