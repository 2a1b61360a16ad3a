"""Training tasks: what a model learns from which data (one module per embedder family)."""

from __future__ import annotations

import importlib

from rtsim.errors import ConfigError

__all__ = ["TASKS", "LOSS_KEYS", "make_task"]

#: The ``[loss]`` keys each task reads; any other key is a typo (or a key meant for
#: another section) and is refused rather than silently ignored.
LOSS_KEYS = {
    "timbre": {"mode", "margin_pos", "margin_neg", "neighbourhoods", "weights",
               "phase_matched", "m", "mining", "margin", "family_weight", "augment",
               "max_lag_s"},
    "stem": {"margin", "metric"},
    "disentangled": {"margin", "track_weight", "mining"},
    "sample": {"m", "temperature", "augment", "max_lag_s", "classes"},
}

TASKS = {
    "timbre": "rtsim.training.tasks.timbre:timbre_task",
    "stem": "rtsim.training.tasks.stems:StemTask",
    "disentangled": "rtsim.training.tasks.disentangled:DisentangledTask",
    "sample": "rtsim.training.tasks.sample:SampleTask",
}


def make_task(cfg, *, progress: bool = True):
    """The task ``cfg.task`` names, built from ``cfg``."""
    if cfg.task not in TASKS:
        raise ConfigError(f"unknown task {cfg.task!r}; known: {sorted(TASKS)}")
    bad = sorted(set(cfg.loss) - LOSS_KEYS[cfg.task])
    if bad:
        raise ConfigError(f"unknown [loss] key(s) {bad} for task {cfg.task!r}; known: "
                          f"{sorted(LOSS_KEYS[cfg.task])}")
    module, _, cls = TASKS[cfg.task].partition(":")
    return getattr(importlib.import_module(module), cls)(cfg, progress=progress)
