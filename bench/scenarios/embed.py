"""``rtsim bench embed``: each embedder at batch 1 with each inference backend.

Backends: eager torch, TorchScript (trace + freeze + optimize_for_inference),
``torch.compile`` and, on CUDA, a replayed CUDA graph (``cudagraph``; eager elsewhere).
Fitted embedders (``pca``) are fitted on random windows first (the timing does not
depend on the values). Outputs of every backend are checked against eager before timing.
"""

from __future__ import annotations

import numpy as np
import torch

from rtsim.bench.core import Report, interleaved
from rtsim.embed import get, names
from rtsim.embed.backends import BACKENDS


def _load(plugin, device: str, backend: str):
    state = None
    if plugin.fitted:
        rng = np.random.default_rng(0)
        windows = rng.standard_normal((512, plugin.spec.window, plugin.spec.n_bins))
        state = plugin.fit(windows.astype(np.float32), plugin.spec)
    return plugin.load(device=device, state=state, backend=backend)


def run(args) -> Report:
    """Time every (embedder, backend) pair on ``args.device``."""
    rep = Report("embed")
    wanted = args.embedders.split(",") if args.embedders else names()
    repeats = args.repeats or (20 if args.quick else 500)
    chosen = getattr(args, "backends", None)
    backends = tuple(chosen.split(",")) if chosen else \
        (("eager", "torchscript") if args.quick else BACKENDS)
    if not set(backends) <= set(BACKENDS) or backends[0] != "eager":
        from rtsim.errors import ConfigError

        raise ConfigError(f"--backends={chosen}: eager first (the reference), then any of "
                          f"{', '.join(BACKENDS[1:])}")
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    for name in wanted:
        plugin = get(name)
        spec = plugin.spec
        x = np.random.default_rng(1).standard_normal((1, spec.window, spec.n_bins)).astype(
            np.float32)
        calls, reference = {}, None
        for backend in backends:
            try:
                emb = _load(plugin, args.device, backend)
            except Exception as exc:  # a backend that cannot build here is reported, not fatal
                rep.notes.append(f"{name}/{backend}: unavailable ({type(exc).__name__}: {exc})")
                continue
            out = emb(x)
            reference = out if reference is None else reference
            if not np.allclose(out, reference, rtol=1e-3, atol=1e-4):
                rep.notes.append(f"{name}/{backend}: output differs from eager")

            def call(emb=emb, x=x):
                emb(x)
                sync()

            calls[f"{name}/{backend}"] = call
        for t in interleaved(calls, warmup=5 if args.quick else 50, repeats=repeats).values():
            rep.add(t)
        for backend in backends[1:]:
            if f"{name}/{backend}" in rep.stages:
                rep.ratio(f"{name}/{backend}", f"{name}/eager")
        best = min((k for k in rep.stages if k.startswith(name + "/")),
                   key=lambda k: rep.stages[k]["p50_ms"])
        rep.extra.setdefault("fastest", {})[name] = best[len(name) + 1 :]
    rep.extra["device"] = args.device
    return rep
