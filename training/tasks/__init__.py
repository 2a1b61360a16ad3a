"""Training tasks: what a model learns from which data (one module per embedder family)."""

from __future__ import annotations

import importlib

from rtsim.errors import ConfigError

__all__ = ["TASKS", "make_task"]

# Each task's ``[loss]`` table is a typed dataclass (rtsim.training.tasks.tables), built
# when the training file is read: unknown keys and wrong types never reach a task.

TASKS = {
    "timbre": "rtsim.training.tasks.timbre:timbre_task",
    "stem": "rtsim.training.tasks.stems:StemTask",
    "disentangled": "rtsim.training.tasks.disentangled:DisentangledTask",
    "sample": "rtsim.training.tasks.sample:SampleTask",
    "vocal": "rtsim.training.tasks.vocal:VocalTask",
    "song2vec": "rtsim.training.tasks.song2vec:Song2VecTask",
}


def make_task(cfg, *, progress: bool = True):
    """The task ``cfg.task`` names, built from ``cfg``."""
    if cfg.task not in TASKS:
        raise ConfigError(f"unknown task {cfg.task!r}; known: {sorted(TASKS)}")
    module, _, cls = TASKS[cfg.task].partition(":")
    return getattr(importlib.import_module(module), cls)(cfg, progress=progress)
