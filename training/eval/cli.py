"""``rtsim eval PROTOCOL``: the papers' evaluations, with baselines, in one command."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rtsim.errors import ConfigError

__all__ = ["cmd_eval"]

CONFIGS = {"timbre": "models/timbre/train.toml", "stems": "models/stems/mix.toml",
           "disentangled": "models/disentangled/train.toml",
           "song2vec": "models/song2vec/train.toml", "vocal": "models/vocal/vocal.toml"}


def cmd_eval(args: argparse.Namespace) -> int:
    """Run one protocol and print (and write) its numbers."""
    from rtsim.embed import get
    from rtsim.features.device import resolve_device
    from rtsim.training.config import load_train_config

    device = resolve_device(args.device)
    out = Path(args.out or f"eval-{args.protocol}")
    embedder = ",".join(args.embedder) if args.embedder else None
    if args.protocol == "samples":
        return _eval_samples(args, embedder, device, out)
    config = Path(args.config) if args.config else _shipped_config(args.protocol)
    heldout = load_train_config(config).eval.get("heldout")
    if heldout is None:
        raise ConfigError(f"{config} has no [eval] heldout corpus")
    if args.protocol == "timbre":
        from rtsim.training.eval.timbre import evaluate_timbre

        emb = get(embedder or "timbre").load(device=device)
        results = evaluate_timbre(emb, heldout, out, progress=not args.no_progress)
    elif args.protocol == "stems":
        from rtsim.training.eval.stems import evaluate_stems

        names = (embedder or ",".join(f"stem/{r}" for r in
                                           ("drums", "bass", "piano", "guitar", "mix")))
        loaded = [get(n).load(device=device) for n in names.split(",")]
        embs = {e.spec.name: e for e in loaded}  # a run folder names its role in its spec
        if len(embs) != len(loaded) or not all(n.startswith("stem/") for n in embs):
            raise ConfigError(f"eval stems needs distinct stem embedders, got {sorted(embs)}")
        results = evaluate_stems(embs, heldout, out, progress=not args.no_progress)
    elif args.protocol == "disentangled":
        from rtsim.training.eval.disentangled import evaluate_disentangled

        emb = get(embedder or "disentangled").load(device=device)
        results = evaluate_disentangled(emb, heldout, out, progress=not args.no_progress)
    elif args.protocol == "song2vec":
        from rtsim.training.eval.song2vec import evaluate_song2vec, format_table

        emb = get(embedder or "song2vec").load(device=device)
        results = evaluate_song2vec(emb, heldout, out, progress=not args.no_progress)
        print(format_table(results))
    elif args.protocol == "vocal":
        from rtsim.training.eval.vocal import evaluate_vocal

        names = embedder or ",".join(f"vocal/{n}" for n in
                                     ("mix", "vocal", "instrumental", "pitch"))
        embs = {}
        for n in names.split(","):
            e = get(n).load(device=device)
            # a run folder names its input in its spec; a second of one input keeps its path
            embs[e.spec.name if e.spec.name not in embs else f"{e.spec.name} ({n})"] = e
        results = evaluate_vocal(embs, heldout, out, progress=not args.no_progress)
    else:
        raise ConfigError(f"unknown protocol {args.protocol!r}")
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    _print(results)
    print(f"figures and results.json in {out}")
    return 0


def _eval_samples(args: argparse.Namespace, embedder: str | None, device, out: Path) -> int:
    """``rtsim eval samples DIR --labels CSV --group COLUMN``."""
    from rtsim.embed import get
    from rtsim.training.eval.samples import evaluate_samples, read_table

    if not args.folder or not args.labels or not args.group:
        raise ConfigError("eval samples needs a folder, --labels CSV and --group COLUMN")
    where = {}
    for w in args.where:
        col, sep, val = w.partition("=")
        negate = col.endswith("!")
        col = col.removesuffix("!").strip()
        if not sep or not col:
            raise ConfigError(f"--where {w!r} must be COLUMN=VALUE or COLUMN!=VALUE")
        where[col] = ("!" if negate else "") + val.strip()
    rows = read_table(args.folder, args.labels, label=args.label, group=args.group,
                      where=where, hide=args.hide)
    names = (embedder or "sample,timbre").split(",")
    embs = {n: get(n).load(device=device) for n in names}
    out.mkdir(parents=True, exist_ok=True)
    results = evaluate_samples(rows, embs, out, k=args.k, device=str(device))
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    _print_samples(results)
    print(f"figures and results.json in {out}")
    return 0


def _print_samples(r: dict) -> None:
    print(f"{r['items']} items ({r['skipped']} skipped), {r['groups']} groups, "
          f"{len(r['labels'])} labels, majority share {r['chance']:.3f}; "
          f"{r['k']}-NN, own group" + (" and own recording" if r["hidden_recordings"] else "")
          + f" excluded; {r['answerable']} answerable")
    for method, v in r.items():
        if isinstance(v, dict) and "accuracy" in v:
            print(f"  {method:<14} accuracy {v['accuracy']:.3f}  ({v['vs_mfcc']:.2f}x MFCC)")


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
