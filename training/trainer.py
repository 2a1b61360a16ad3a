"""The trainer: any task, one run folder, resumable, with early stopping.

A run folder holds everything needed to reproduce and to use the model::

    RUN/
      config.toml            the training config, verbatim
      spec.json              the embedder spec (front end, window, hop, dim, metric)
      model.json             architecture ("module:Class") and its keyword arguments
      metrics.jsonl          one line per validation (step, loss, lr, scores, seconds)
      checkpoints/last.*     model + optimizer + RNG state (safetensors + JSON), to resume
      checkpoints/ema.*      the moving average of the weights, with ``[train] ema``
      best.safetensors       the weights with the best validation score (of the average,
                             with ``[train] ema``)
      manifest.json          weights hash, steps, duration, stop reason, versions

A run folder is itself a loadable embedder (``--embedder RUN`` in ``rtsim run`` and
``rtsim index build``).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from rtsim import __version__
from rtsim.embed import EmbedderSpec, load_state, save_state, state_hash
from rtsim.errors import ConfigError
from rtsim.training.averaging import WeightAverage
from rtsim.training.checkpoint import load_checkpoint, save_checkpoint
from rtsim.training.config import TrainConfig

__all__ = ["Task", "RunResult", "train"]

log = logging.getLogger(__name__)


class Task(Protocol):
    """What the trainer needs from a task (see :mod:`rtsim.training.tasks`)."""

    spec: EmbedderSpec
    architecture: str
    arch_kwargs: dict[str, Any]

    def build_model(self) -> torch.nn.Module:
        """A fresh model."""

    def loss(self, model: torch.nn.Module, batch: int, rng: np.random.Generator,
             device: torch.device) -> torch.Tensor:
        """The loss of one freshly sampled batch."""

    def validate(self, model: torch.nn.Module, device: torch.device) -> dict[str, float]:
        """Validation figures; ``score`` (higher is better) drives early stopping."""

    # Optional: ``param_groups(model)`` gives the optimizer's parameter groups (dicts; a
    # group's ``lr_scale`` multiplies ``[train] lr`` for it, other keys such as ``betas``
    # are the optimizer's own); ``begin(out: Path)`` is called once with the run folder
    # before the first step (a task that writes figures there); a non-empty
    # ``stop_reason: str`` after ``validate`` stops the run with that reason (a GAN task
    # that detects a collapse). A task whose ``loss`` alternates between players (a GAN)
    # returns a loss whose graph reaches only the parameters of the player it trains: the
    # one optimizer then steps only those (parameters without a gradient are skipped).


@dataclass
class RunResult:
    """What a run did."""

    out: Path
    steps: int
    best_score: float
    best_step: int
    stop_reason: str
    minutes: float


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device='cuda' but no CUDA device is available")
    return torch.device(name)


def _optimizer(cfg, params):
    """The optimizer over ``params`` (tensors, or groups; a group's ``lr_scale`` scales lr)."""
    s = cfg.train
    params = list(params)
    for g in params:
        if isinstance(g, dict) and "lr_scale" in g:
            g["lr"] = s.lr * g["lr_scale"]
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
    return torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, weight_decay=s.weight_decay)


def train(task: Task, cfg: TrainConfig, out: str | Path, *, resume: bool = False,
          progress: bool = True) -> RunResult:
    """Train ``task`` under ``cfg`` into the run folder ``out``."""
    out = Path(out)
    s = cfg.train
    if out.exists() and any(out.iterdir()) and not resume:
        raise ConfigError(f"run folder {out} is not empty: pass --resume or choose another")
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    torch.manual_seed(s.seed)
    torch.set_num_threads(s.threads)
    rng = np.random.default_rng(s.seed)
    device = _device(s.device)
    model = task.build_model().to(device)
    opt = _optimizer(cfg, task.param_groups(model) if hasattr(task, "param_groups")
                     else model.parameters())
    meta = {"step": 0, "best_score": -math.inf, "best_step": 0, "stale": 0, "plateau": 0,
            "reductions": 0, "seconds": 0.0}
    last = out / "checkpoints" / "last"
    avg = WeightAverage(model, s.ema) if s.ema else None
    if resume and last.with_suffix(".json").is_file():
        meta = load_checkpoint(last, model=model, optimizer=opt, rng=rng)
        if avg is not None:
            _resume_average(avg, out, meta)
        log.info("resumed %s at step %d", out, meta["step"])
    else:
        (out / "config.toml").write_text(cfg.source)
        (out / "spec.json").write_text(json.dumps(task.spec.to_dict(), indent=2))
        (out / "model.json").write_text(json.dumps(
            {"architecture": task.architecture, "kwargs": task.arch_kwargs}, indent=2))
    if hasattr(task, "begin"):
        task.begin(out)
    reason = _loop(task, cfg, out, model, opt, rng, device, meta, progress, avg)
    best = out / "best.safetensors"
    weights_hash = state_hash(load_state(best)) if best.exists() else None
    (out / "manifest.json").write_text(json.dumps({
        "embedder": task.spec.name, "weights": "best.safetensors", "weights_hash": weights_hash,
        "steps": meta["step"], "best_step": meta["best_step"], "best_score": meta["best_score"],
        "minutes": meta["seconds"] / 60, "stop_reason": reason, "schedule": asdict(s),
        "device": str(device), "rtsim": __version__, "torch": torch.__version__,
    }, indent=2))
    return RunResult(out, meta["step"], meta["best_score"], meta["best_step"], reason,
                     meta["seconds"] / 60)


def _resume_average(avg: WeightAverage, out: Path, meta: dict) -> None:
    """Restore the moving average saved beside the last checkpoint (or restart it)."""
    path = out / "checkpoints" / "ema.safetensors"
    if path.is_file() and "ema_updates" in meta:
        avg.model.load_state_dict(load_state(path))
        avg.updates = int(meta["ema_updates"])
    else:
        log.warning("%s: no saved weight average; it restarts from step %d", out, meta["step"])


def _loop(task, cfg, out, model, opt, rng, device, meta, progress, avg=None) -> str:
    s = cfg.train
    t_start = time.perf_counter() - meta["seconds"]
    losses: list[float] = []
    bar = _bar(progress, s.steps, meta["step"])
    reason = "steps"
    try:
        while meta["step"] < s.steps:
            model.train()
            if s.lr_schedule != "plateau":
                for g in opt.param_groups:
                    g["lr"] = s.lr_at(meta["step"]) * g.get("lr_scale", 1.0)
            loss = task.loss(model, s.batch, rng, device)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if avg is not None:
                avg.update(model)
            losses.append(float(loss.detach()))
            meta["step"] += 1
            if bar is not None:
                bar.update(1, loss=losses[-1])
            elapsed = time.perf_counter() - t_start
            if meta["step"] % s.eval_every == 0 or meta["step"] == s.steps \
                    or elapsed > 60 * s.max_minutes:
                meta["seconds"] = elapsed
                reason = _validate(task, cfg, out, model, opt, rng, device, meta, losses,
                                   avg)
                losses = []
                if reason:
                    break
                if elapsed > 60 * s.max_minutes:
                    reason = "time budget"
                    break
        else:
            reason = "steps"
    finally:
        if bar is not None:
            bar.close()
    return reason or "steps"


def _validate(task, cfg, out, model, opt, rng, device, meta, losses, avg=None) -> str:
    s = cfg.train
    model.eval()
    judged = model if avg is None else avg.model  # what is validated and kept
    with torch.no_grad():
        scores = task.validate(judged, device)
    lr = opt.param_groups[0]["lr"]
    row = {"step": meta["step"], "loss": float(np.mean(losses)) if losses else None, "lr": lr,
           "seconds": round(meta["seconds"], 1), **scores}
    with open(out / "metrics.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    log.info("step %d: %s", meta["step"], row)
    reason = getattr(task, "stop_reason", "") or ""
    if scores["score"] > meta["best_score"]:
        meta.update(best_score=scores["score"], best_step=meta["step"], stale=0, plateau=0)
        save_state(dict(judged.state_dict()), out / "best.safetensors")
    else:
        meta["stale"] += 1
        meta["plateau"] += 1
        if s.plateau_patience and meta["plateau"] >= s.plateau_patience:
            if meta["reductions"] >= s.max_reductions:
                reason = "plateau after the last learning-rate reduction"
            else:
                meta["reductions"] += 1
                meta["plateau"] = 0
                for g in opt.param_groups:
                    g["lr"] /= s.plateau_factor
        if s.patience and meta["stale"] >= s.patience:
            reason = reason or "early stopping"
    if avg is not None:
        save_state(dict(avg.model.state_dict()), out / "checkpoints" / "ema.safetensors")
        meta["ema_updates"] = avg.updates
    save_checkpoint(out / "checkpoints" / "last", model=model, optimizer=opt, rng=rng,
                    meta=meta)
    return reason


class _Bar:
    """A rich progress bar showing the latest loss."""

    def __init__(self, total: int, done: int) -> None:
        from rich.progress import Progress

        self.p = Progress(*Progress.get_default_columns(), "loss {task.fields[loss]:.4f}")
        self.p.start()
        self.t = self.p.add_task("training", total=total, completed=done, loss=float("nan"))

    def update(self, n: int, *, loss: float) -> None:
        self.p.update(self.t, advance=n, loss=loss)

    def close(self) -> None:
        self.p.stop()


def _bar(enabled: bool, total: int, done: int) -> _Bar | None:
    return _Bar(total, done) if enabled else None
