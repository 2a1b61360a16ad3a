"""``rtsim eval PROTOCOL``: the papers' evaluations, with baselines, in one command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rtsim.errors import ConfigError

__all__ = ["cmd_eval"]

CONFIGS = {"timbre": "models/timbre/train.toml", "stems": "models/stems/mix.toml",
           "disentangled": "models/disentangled/train.toml"}


def cmd_eval(args: argparse.Namespace) -> int:
    """Run one protocol and print (and write) its numbers."""
    from rtsim.embed import get
    from rtsim.engine.wiring import resolve_device
    from rtsim.training.config import load_train_config

    device = resolve_device(args.device)
    out = Path(args.out or f"eval-{args.protocol}")
    config = Path(args.config) if args.config else _shipped_config(args.protocol)
    heldout = load_train_config(config).eval.get("heldout")
    if heldout is None:
        raise ConfigError(f"{config} has no [eval] heldout corpus")
    if args.protocol == "timbre":
        from rtsim.training.eval.timbre import evaluate_timbre

        emb = get(args.embedder or "timbre").load(device=device)
        results = evaluate_timbre(emb, heldout, out, progress=not args.no_progress)
    elif args.protocol == "stems":
        from rtsim.training.eval.stems import evaluate_stems

        names = (args.embedder or ",".join(f"stem/{r}" for r in
                                           ("drums", "bass", "piano", "guitar", "mix")))
        loaded = [get(n).load(device=device) for n in names.split(",")]
        embs = {e.spec.name: e for e in loaded}  # a run folder names its role in its spec
        if len(embs) != len(loaded) or not all(n.startswith("stem/") for n in embs):
            raise ConfigError(f"eval stems needs distinct stem embedders, got {sorted(embs)}")
        results = evaluate_stems(embs, heldout, out, progress=not args.no_progress)
    elif args.protocol == "disentangled":
        from rtsim.training.eval.disentangled import evaluate_disentangled

        emb = get(args.embedder or "disentangled").load(device=device)
        results = evaluate_disentangled(emb, heldout, out, progress=not args.no_progress)
    else:
        raise ConfigError(f"unknown protocol {args.protocol!r}")
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    _print(results)
    print(f"figures and results.json in {out}")
    return 0


def _shipped_config(protocol: str) -> Path:
    from importlib.resources import files

    rel = CONFIGS[protocol].split("/", 1)[1]
    return Path(str(files("rtsim.models").joinpath(rel)))


def _print(results: dict, indent: str = "") -> None:
    for key, value in results.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print(value, indent + "  ")
        else:
            print(f"{indent}{key}: {value:.4f}" if isinstance(value, float)
                  else f"{indent}{key}: {value}")
