"""Training configuration: one TOML file per shipped model (``models/<name>/train.toml``).

::

    [model]                      # the embedder being trained
    task = "timbre"              # rtsim.training.tasks.<task>
    [model.kwargs]               # architecture parameters
    channels = [16, 32, 48]

    [data]                       # corpora, rendered on first use and cached
    train = { kind = "notes", soundfont = "fluidr3", seed = 0, size = 4000 }
    heldout = { kind = "notes", soundfont = "timgm6mb", seed = 1, size = 1500 }

    [train]
    seed = 0
    steps = 20000
    batch = 32
    optimizer = "sgd"
    lr = 0.01

    [loss]                       # the task's own table (rtsim.training.tasks.tables)
    margin_pos = 0.25
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rtsim.config import build, merge, read_toml
from rtsim.errors import ConfigError

__all__ = ["TrainConfig", "Schedule", "TrainFile", "load_train_config", "FRONTEND_TASKS"]

FRONTEND_TASKS = frozenset({"sample"})
"""Tasks whose embedder's front end a ``[model] frontend`` table may change."""


@dataclass(frozen=True)
class Schedule:
    """Optimisation schedule.

    Parameters
    ----------
    seed : int
    steps : int
        Most optimisation steps.
    batch : int
        Triplets (or examples) per step.
    optimizer : {"sgd", "adam"}
    lr, momentum, weight_decay : float
    eval_every : int
        Steps between validations (and checkpoints).
    patience : int
        Validations without improvement before stopping early (0: never).
    lr_schedule : {"plateau", "cosine"}
        ``plateau``: ``lr`` until validation stalls (below). ``cosine``: ``lr`` annealed
        along a half cosine from step 0 to ``steps`` down to ``lr * min_lr_ratio``, step by
        step (set ``steps`` to what fits the time budget); plateau reductions are off.
    min_lr_ratio : float
        The cosine schedule's final learning rate as a fraction of ``lr``.
    plateau_patience : int
        Validations without improvement before the learning rate is divided.
    plateau_factor : float
        That divisor (Lee et al.: 5).
    max_reductions : int
        Learning-rate reductions allowed; the next plateau stops training.
    max_minutes : float
        Wall-clock budget (the step in flight finishes).
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    threads : int
        Torch threads on the CPU.
    ema : float
        Decay of a moving average of the weights (:mod:`rtsim.training.averaging`), which
        is then what is validated and kept as ``best.safetensors``; 0 (default): off.
    """

    seed: int = 0
    steps: int = 10000
    batch: int = 32
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    eval_every: int = 500
    patience: int = 0
    lr_schedule: str = "plateau"
    min_lr_ratio: float = 0.0
    plateau_patience: int = 0
    plateau_factor: float = 5.0
    max_reductions: int = 0
    max_minutes: float = 30.0
    device: str = "auto"
    threads: int = 2
    ema: float = 0.0

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adam"):
            raise ConfigError(f"train.optimizer={self.optimizer!r} must be sgd or adam")
        for key in ("steps", "batch", "eval_every", "threads"):
            if getattr(self, key) < 1:
                raise ConfigError(f"train.{key}={getattr(self, key)} must be >= 1")
        if not self.lr > 0 or self.plateau_factor <= 1 or self.max_minutes <= 0:
            raise ConfigError("train.lr and max_minutes must be > 0, plateau_factor > 1")
        if self.lr_schedule not in ("plateau", "cosine"):
            raise ConfigError(f"train.lr_schedule={self.lr_schedule!r} must be plateau or cosine")
        if not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError(f"train.min_lr_ratio={self.min_lr_ratio} must be in [0, 1]")
        if not 0 <= self.ema < 1:
            raise ConfigError(f"train.ema={self.ema} must be in [0, 1) (0: no average)")
        if self.lr_schedule == "cosine" and self.plateau_patience:
            raise ConfigError("train.plateau_patience has no effect with lr_schedule='cosine'")

    def lr_at(self, step: int) -> float:
        """The learning rate of optimisation step ``step`` (0-based).

        ``lr`` for ``plateau`` (before any reduction), the annealed value for ``cosine``.
        """
        if self.lr_schedule == "plateau":
            return self.lr
        t = min(max(step / self.steps, 0.0), 1.0)
        floor = self.lr * self.min_lr_ratio
        return floor + (self.lr - floor) * 0.5 * (1 + math.cos(math.pi * t))


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run: task, architecture, data, schedule and loss."""

    task: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    frontend: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    train: Schedule = field(default_factory=Schedule)
    loss: Any = None  # the task's typed [loss] table (rtsim.training.tasks.tables)
    eval: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def name(self) -> str:
        """The embedder's name (from the task and its kwargs)."""
        return self.kwargs.get("name", self.task)


@dataclass(frozen=True)
class ModelTable:
    """``[model]``: the task (``rtsim.training.tasks.<task>``) and its architecture.

    ``frontend`` overrides fields of the embedder's front end (``{ sr = 44100, n_fft =
    2048, hop_length = 512 }``), for the tasks in :data:`FRONTEND_TASKS`; the run's
    ``spec.json`` records the front end it was trained with.
    """

    task: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    frontend: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataTable:
    """``[data]``: the training corpora, the validation share, the sources left out.

    ``train`` is a corpus table or a list of them, as each task reads them.
    """

    train: Any = None
    validation_fraction: float | None = None
    leave_out: Any = None


@dataclass(frozen=True)
class EvalTable:
    """``[eval]``: a held-out corpus."""

    heldout: Any = None


@dataclass(frozen=True)
class TrainFile:
    """A training TOML file as typed tables (``[loss]`` is typed by its task's table)."""

    model: ModelTable
    data: DataTable = field(default_factory=DataTable)
    train: Schedule = field(default_factory=Schedule)
    loss: dict[str, Any] = field(default_factory=dict)
    eval: EvalTable = field(default_factory=EvalTable)


def load_train_config(path: str | Path, *, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a training TOML file (``overrides``: ``{"train": {"steps": 100}}``...).

    Built with the runtime config's machinery (:mod:`rtsim.config`): unknown sections and
    keys, wrong types and non-finite numbers are errors naming the key, all at once.
    """
    p = Path(path)
    raw = merge(read_toml(p), overrides or {})
    if "task" not in raw.get("model", {}):
        raise ConfigError(f"{p}: [model] task = ... is required")
    try:
        f = build(TrainFile, raw, "training config")
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
    from rtsim.training.tasks.tables import loss_table

    try:
        loss = loss_table(f.model.task, dict(f.loss))
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
    data = {k: v for k, v in dataclasses.asdict(f.data).items() if v is not None}
    evals = {k: v for k, v in dataclasses.asdict(f.eval).items() if v is not None}
    if f.model.frontend and f.model.task not in FRONTEND_TASKS:
        raise ConfigError(f"{p}: [model] frontend is read by the tasks {sorted(FRONTEND_TASKS)}"
                          f" only, not {f.model.task!r}")
    return TrainConfig(task=f.model.task, kwargs=dict(f.model.kwargs),
                       frontend=dict(f.model.frontend), data=data,
                       train=f.train, loss=loss, eval=evals, source=p.read_text())
