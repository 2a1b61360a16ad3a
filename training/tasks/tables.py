"""The ``[loss]`` table of each training task, typed.

A training file's ``[loss]`` is built into one of these frozen dataclasses by the same
machinery as every other table (:func:`rtsim.config.build`): an unknown key, a value of
the wrong type or a non-finite number is an error naming the key, and a choice outside
its options names the value and the options. :func:`loss_table` picks the dataclass from
the task (and, for ``timbre``, from its ``mode``). Defaults are the shipped recipes'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rtsim.config import build
from rtsim.errors import ConfigError

__all__ = ["TimbreNotesLoss", "TimbreClipsLoss", "StemLoss", "DisentangledLoss", "SampleLoss",
           "Song2VecLoss", "VocalLoss", "loss_table", "TABLES"]


def _one_of(name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ConfigError(f"[loss] {name}={value!r} must be one of {list(options)}")


@dataclass(frozen=True)
class TimbreNotesLoss:
    """``timbre`` on rendered notes (``mode = "windows"`` or ``"trajectory"``).

    ``windows``: Humphrey's neighbourhood triplets of single windows under the two-margin
    contrastive loss (``margin_pos``, ``margin_neg``, ``neighbourhoods``, ``weights``,
    ``phase_matched``). ``trajectory``: ``m`` notes per program seen through their windows,
    triplet loss (``margin``, ``mining``) on programs plus ``family_weight`` times on
    families.
    """

    mode: str = "windows"
    margin_pos: float = 0.05
    margin_neg: float = 1.0
    neighbourhoods: tuple[str, ...] | None = None  # None: all of them
    weights: tuple[float, ...] | None = None
    phase_matched: bool = False
    m: int = 4
    mining: str = "batch_hard"
    margin: float = 0.5
    family_weight: float = 0.5

    def __post_init__(self) -> None:
        _one_of("mode", self.mode, ("windows", "trajectory", "clips"))
        _one_of("mining", self.mining, ("batch_hard", "batch_all"))


@dataclass(frozen=True)
class TimbreClipsLoss:
    """``timbre`` on augmented one-shots (``mode = "clips"``).

    ``m`` notes per instrument, two views each, batch-all triplets on instruments plus
    ``family_weight`` times on families.
    """

    mode: str = "clips"
    m: int = 4
    margin: float = 0.5
    family_weight: float = 0.8
    augment: dict[str, Any] | None = None  # None: the default augmentation chain
    max_lag_s: float = 1.0


@dataclass(frozen=True)
class StemLoss:
    """``stem``: triplet margin loss (the paper's cosine margin 0.2)."""

    margin: float = 0.2
    metric: str = "cosine"

    def __post_init__(self) -> None:
        _one_of("metric", self.metric, ("cosine", "l2"))


@dataclass(frozen=True)
class DisentangledLoss:
    """``disentangled``: masked (per-subspace) and track triplets, ``track_weight`` = λ."""

    margin: float = 0.1
    track_weight: float = 0.5
    mining: str = "batch_all"

    def __post_init__(self) -> None:
        _one_of("mining", self.mining, ("batch_all", "sampled"))


@dataclass(frozen=True)
class SampleLoss:
    """``sample``: supervised contrastive loss over ``classes`` groups, ``m`` per class."""

    m: int = 4
    temperature: float = 0.1
    augment: dict[str, Any] | None = None  # None: the default augmentation chain
    # per kind of one-shot ("drum", "note"): fields overriding ``augment`` for its rows;
    # per class ("drum:cymbal"): fields overriding its kind's
    augment_for: dict[str, dict[str, Any]] | None = None
    max_lag_s: float = 1.0
    classes: dict[str, int] = field(default_factory=lambda: {"drum": 6, "perc": 2, "note": 8})
    # draw a class's m one-shots spread over these keys, coarse to fine (empty: uniformly)
    spread: tuple[str, ...] = ()
    # weight of a class-conditional source adversary through gradient reversal (0: none)
    adversary: float = 0.0
    # weight of a normalised softmax over learned class proxies beside SupCon (0: none)
    proxy: float = 0.0
    proxy_temperature: float = 0.05

    def __post_init__(self) -> None:
        if not self.adversary >= 0:
            raise ConfigError(f"[loss] adversary={self.adversary} must be >= 0 (0: none)")
        if not self.proxy >= 0:
            raise ConfigError(f"[loss] proxy={self.proxy} must be >= 0 (0: none)")
        if not self.proxy_temperature > 0:
            raise ConfigError(f"[loss] proxy_temperature={self.proxy_temperature} must be > 0")
        extra = sorted(set(self.classes) - {"drum", "perc", "note"})
        if extra:
            raise ConfigError(f"[loss] classes has unknown group(s) {extra}; known: "
                              "['drum', 'note', 'perc']")
        extra = sorted(k for k in self.augment_for or {}
                       if k.split(":", 1)[0] not in ("drum", "note") or k.endswith(":"))
        if extra:
            raise ConfigError(f"[loss] augment_for has unknown kind(s) {extra}; known: "
                              "['drum', 'note'], or one of their classes ('drum:cymbal')")
        bad = sorted(set(self.spread) - {"source", "group"})
        if bad:
            raise ConfigError(f"[loss] spread has unknown key(s) {bad}; known: "
                              "['group', 'source']")
        if not self.temperature > 0:
            raise ConfigError(f"[loss] temperature={self.temperature} must be > 0")


@dataclass(frozen=True)
class Song2VecLoss:
    """``song2vec``: ALI under least-squares (LSGAN) losses, with the paper's stabilisers.

    ``ratio`` encoder/decoder steps per discriminator step (4); the discriminator's
    positive targets drawn uniformly in [``smooth_low``, ``smooth_high``] (0.7–0.9);
    Gaussian noise on the discriminator's images, its standard deviation (in z-scored
    units) annealed linearly from ``noise_start`` to ``noise_end`` over ``noise_steps``
    steps (0: the whole run); ``kernel_l2`` times the squared weights of the
    discriminator's convolutions added to its loss (the paper's kernel regulariser).
    Adam's first moment decay ``beta1`` for both players (0.5, as DCGAN and ALI); the
    discriminator's learning rate is ``d_lr_scale`` times ``[train] lr``.
    Collapse: the discriminator's loss below ``collapse_d_loss`` on average over its last
    ``collapse_window`` steps, or reconstructions (or codes) whose spread across a batch
    is below ``collapse_spread`` of the data's (of the prior's); training stops after
    ``collapse_patience`` validations in a row find one (0: never stops, only reports).
    """

    ratio: int = 4
    smooth_low: float = 0.7
    smooth_high: float = 0.9
    noise_start: float = 0.5
    noise_end: float = 0.05
    noise_steps: int = 0
    kernel_l2: float = 1e-4
    d_lr_scale: float = 4.0
    beta1: float = 0.5
    collapse_d_loss: float = 0.01
    collapse_window: int = 100
    collapse_spread: float = 0.05
    collapse_patience: int = 3

    def __post_init__(self) -> None:
        if self.ratio < 1 or self.collapse_window < 1:
            raise ConfigError(f"[loss] ratio={self.ratio} and collapse_window="
                              f"{self.collapse_window} must be >= 1")
        if not 0 <= self.smooth_low <= self.smooth_high <= 1:
            raise ConfigError(f"[loss] need 0 <= smooth_low={self.smooth_low} <= "
                              f"smooth_high={self.smooth_high} <= 1")
        if min(self.noise_start, self.noise_end, self.kernel_l2, self.noise_steps,
               self.collapse_patience) < 0:
            raise ConfigError("[loss] noise_start, noise_end, noise_steps, kernel_l2 and "
                              "collapse_patience must be >= 0")
        if not self.d_lr_scale > 0 or not 0 <= self.beta1 < 1:
            raise ConfigError(f"[loss] d_lr_scale={self.d_lr_scale} must be > 0 and "
                              f"beta1={self.beta1} in [0, 1)")


@dataclass(frozen=True)
class VocalLoss:
    """``vocal``: cross-entropy on ``label`` (genre or singer), label smoothing (0: none)."""

    label_smoothing: float = 0.0
    label: str = "genre"

    def __post_init__(self) -> None:
        _one_of("label", self.label, ("genre", "singer"))
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"[loss] label_smoothing={self.label_smoothing} must be in "
                              "[0, 1)")


#: The ``[loss]`` dataclasses of each task (``timbre``: by ``mode``).
TABLES: dict[str, tuple[type, ...]] = {
    "timbre": (TimbreNotesLoss, TimbreClipsLoss),
    "stem": (StemLoss,),
    "disentangled": (DisentangledLoss,),
    "sample": (SampleLoss,),
    "song2vec": (Song2VecLoss,),
    "vocal": (VocalLoss,),
}


def loss_table(task: str, raw: dict[str, Any]) -> Any:
    """``raw`` (a ``[loss]`` table) as the task's typed loss table.

    Raises
    ------
    ConfigError
        An unknown task, key, type or option, naming it.
    """
    if task not in TABLES:
        raise ConfigError(f"unknown task {task!r}; known: {sorted(TABLES)}")
    cls = TABLES[task][0]
    if task == "timbre" and raw.get("mode") == "clips":
        cls = TimbreClipsLoss
    return build(cls, raw, "loss")
