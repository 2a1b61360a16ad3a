"""``rtsim train CONFIG.toml``."""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path

__all__ = ["cmd_train"]


def cmd_train(args: argparse.Namespace) -> int:
    """Train the model a config describes into a run folder."""
    from rtsim.training.config import load_train_config
    from rtsim.training.tasks import make_task
    from rtsim.training.trainer import train

    overrides: dict = {}
    if args.steps:
        overrides.setdefault("train", {})["steps"] = args.steps
    if args.device:
        overrides.setdefault("train", {})["device"] = args.device
    if args.max_minutes:
        overrides.setdefault("train", {})["max_minutes"] = args.max_minutes
    if getattr(args, "leave_out", None):
        overrides.setdefault("data", {})["leave_out"] = args.leave_out
    cfg = load_train_config(args.config, overrides=overrides)
    out = Path(args.out) if args.out else Path("runs") / (
        f"{cfg.task}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}")
    task = make_task(cfg, progress=not args.no_progress)
    result = train(task, cfg, out, resume=args.resume, progress=not args.no_progress)
    print(f"{out}: {result.steps} steps in {result.minutes:.1f} min, best score "
          f"{result.best_score:.4f} at step {result.best_step} ({result.stop_reason})")
    return 0
