"""The embedder plugin API.

An embedder plugin is a small declaration (:class:`EmbedderSpec`: name, front end,
window, hop, dimension, metric, named subspaces, devices) plus a way to build its model
from a state dict. :meth:`EmbedderPlugin.load` returns an :class:`Embedder`, the
inference callable the engine and the library builder use::

    plugin = rtsim.embed.get("pca")
    emb = plugin.load(device="cpu", state=library.embedder_state)
    vectors = emb(windows)            # (batch, window, n_bins) -> (batch, dim)

Weights are safetensors only (never pickle); every weight must be finite; the sha256 of
the state identifies the model in library manifests. "Fitted" embedders (``pca``) have no
shipped weights: :attr:`EmbedderPlugin.fit` computes their state from the library being
indexed, and the library stores it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rtsim.errors import EmbedderError
from rtsim.features import FrontEndSpec, identity, make_frontend, spec_from_dict

__all__ = [
    "METRICS",
    "Subspace",
    "EmbedderSpec",
    "Embedder",
    "EmbedderPlugin",
    "state_hash",
    "load_state",
    "save_state",
]

METRICS = ("l2", "cosine", "ip")
State = Mapping[str, torch.Tensor]


@dataclass(frozen=True)
class Subspace:
    """A named slice ``[start, stop)`` of the embedding (e.g. Lee et al.'s "genre")."""

    name: str
    start: int
    stop: int


@dataclass(frozen=True)
class EmbedderSpec:
    """What an embedder needs and produces.

    Parameters
    ----------
    name : str
        Registry name (``"pca"``, ``"timbre"``, ``"stem/bass"``); also its OSC address part.
    frontend : CQTSpec or MelSpec
        The front end its input frames come from (exactly the one it was trained on).
    window : int
        Frames per model input.
    hop : int
        Frames between two embeddings.
    dim : int
        Embedding dimension.
    metric : {"l2", "cosine", "ip"}
        How embeddings compare. Distances are reported so that smaller is closer.
    subspaces : tuple of Subspace
        Named disjoint slices the user may weight at query time.
    devices : tuple of str
        Torch device types the model supports.
    native_xyz : bool
        The first three dimensions are the embedder's own 3-D map (``timbre``, ``pca``);
        otherwise libraries fit a 3-D projection at build time.
    description : str
    """

    name: str
    frontend: FrontEndSpec
    window: int
    hop: int
    dim: int
    metric: str
    subspaces: tuple[Subspace, ...] = ()
    devices: tuple[str, ...] = ("cpu", "cuda")
    native_xyz: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not all(p.replace("_", "").replace("-", "").isalnum()
                                    for p in self.name.split("/")):
            raise EmbedderError(
                f"embedder name={self.name!r} must be letters, digits, '_', '-' and '/'"
            )
        for key in ("window", "hop", "dim"):
            if getattr(self, key) < 1:
                raise EmbedderError(f"{self.name}: {key}={getattr(self, key)} must be >= 1")
        if self.metric not in METRICS:
            raise EmbedderError(f"{self.name}: metric={self.metric!r} must be one of {METRICS}")
        if self.native_xyz and self.dim < 3:
            raise EmbedderError(f"{self.name}: native_xyz needs dim >= 3, got dim={self.dim}")
        end = 0
        for s in sorted(self.subspaces, key=lambda s: s.start):
            if not 0 <= end <= s.start < s.stop <= self.dim:
                raise EmbedderError(
                    f"{self.name}: subspace {s.name!r} [{s.start}, {s.stop}) overlaps another "
                    f"or leaves [0, dim={self.dim})"
                )
            end = s.stop

    @property
    def n_bins(self) -> int:
        """Features per input frame."""
        fe = self.frontend
        return fe.n_bins if fe.kind == "cqt" else fe.n_mels

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, for manifests and run folders."""
        d = asdict(self)
        d["frontend"] = identity(self.frontend)
        d["subspaces"] = [asdict(s) for s in self.subspaces]
        d["devices"] = list(self.devices)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EmbedderSpec:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["frontend"] = spec_from_dict(d["frontend"])
        d["subspaces"] = tuple(Subspace(**s) for s in d.get("subspaces", ()))
        d["devices"] = tuple(d.get("devices", ("cpu", "cuda")))
        return cls(**d)


class Embedder:
    """A loaded embedder: the inference callable.

    Parameters
    ----------
    spec : EmbedderSpec
    module : torch.nn.Module
        Maps ``(batch, window, n_bins)`` float32 to ``(batch, dim)``.
    weights_hash : str
        sha256 of the state the module was built from.
    device : str or torch.device
    backend : {"eager", "torchscript", "compile", "cudagraph"}
        How the module runs (see :mod:`rtsim.embed.backends`).
    """

    def __init__(self, spec: EmbedderSpec, module: torch.nn.Module, *, weights_hash: str,
                 device: str | torch.device = "cpu", backend: str = "eager") -> None:
        from rtsim.embed.backends import prepare

        self.spec = spec
        self.device = torch.device(device)
        self.module = module.to(self.device).eval()
        self.weights_hash = weights_hash
        self.backend = backend
        # a cosine embedder's vectors are unit length: normalised here, once, unless the
        # model's forward already returns unit rows (a module with ``unit_norm = True``)
        self.normalises = spec.metric == "cosine" and not getattr(module, "unit_norm", False)
        example = torch.zeros((1, spec.window, spec.n_bins), device=self.device)
        self._forward = prepare(self.module, backend, example)

    def __call__(self, windows: np.ndarray | torch.Tensor) -> np.ndarray:
        """Embed a batch of windows.

        Parameters
        ----------
        windows : array, shape (batch, window, n_bins), float32

        Returns
        -------
        np.ndarray, shape (batch, dim), float32
            L2-normalised when the metric is cosine.
        """
        if isinstance(windows, np.ndarray) and not windows.flags.writeable:
            windows = windows.copy()  # torch cannot wrap read-only arrays (strided views)
        x = torch.as_tensor(windows, dtype=torch.float32).to(self.device, non_blocking=True)
        with torch.inference_mode():
            y = self._forward(x)
            if self.normalises:
                y = torch.nn.functional.normalize(y, dim=-1)
        return y.float().cpu().numpy()

    @property
    def infer(self):
        """The model on device tensors, ``(batch, window, n_bins) -> (batch, dim)``.

        The backend's callable, or the eager module under ``cudagraph`` (whose callers
        capture it in their own graph); not normalised here: see :attr:`normalises`.
        """
        return self.module if self.backend == "cudagraph" else self._forward

    def frontend(self):
        """A fresh front end matching this embedder, on its device."""
        return make_frontend(self.spec.frontend, device=str(self.device))


@dataclass(frozen=True)
class EmbedderPlugin:
    """Declaration plus model factory.

    Parameters
    ----------
    spec : EmbedderSpec
    build : callable
        ``build(state) -> nn.Module``: the model with its state loaded.
    weights : Path or None
        Shipped safetensors file; None for fitted embedders.
    fit : callable or None
        ``fit(windows, spec) -> state`` for embedders fitted on the library
        (``windows``: np.ndarray of shape (n, window, n_bins)).
    card : Path or None
        The model card.
    """

    spec: EmbedderSpec
    build: Callable[[State], torch.nn.Module]
    weights: Path | None = None
    fit: Callable[[np.ndarray, EmbedderSpec], dict[str, torch.Tensor]] | None = None
    card: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The embedder's name."""
        return self.spec.name

    @property
    def fitted(self) -> bool:
        """True when the state comes from the library, not from shipped weights."""
        return self.fit is not None

    def load(self, *, device: str | torch.device = "cpu", state: State | None = None,
             backend: str = "eager") -> Embedder:
        """Build the inference callable on ``device`` with ``backend``.

        ``state`` overrides the shipped weights (fitted embedders must be given one,
        normally the library's).
        """
        dev = torch.device(device)
        if dev.type not in self.spec.devices:
            raise EmbedderError(f"{self.name} does not support device={dev.type!r}")
        if state is None:
            if self.weights is None:
                raise EmbedderError(
                    f"{self.name} is fitted on a library: load it from one (rtsim index build "
                    f"... --embedder {self.name}), there are no shipped weights"
                )
            state = load_state(self.weights)
        _check_finite(state, self.name)
        return Embedder(self.spec, self.build(state), weights_hash=state_hash(state),
                        device=dev, backend=backend)


def state_hash(state: State) -> str:
    """sha256 over names, dtypes, shapes and bytes of a state dict (order-independent)."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a safetensors state dict (no pickle), with a clear error for a bad file."""
    from safetensors.torch import load_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise EmbedderError(f"weights must be a .safetensors file, got {path}")
    try:
        return load_file(str(path))
    except FileNotFoundError as exc:
        raise EmbedderError(f"weights file not found: {path}") from exc
    except Exception as exc:  # safetensors raises its own SafetensorError / OSError
        raise EmbedderError(f"cannot read weights {path}: {exc}") from exc


def save_state(state: State, path: str | Path, *, metadata: dict[str, str] | None = None) -> str:
    """Write a state dict as safetensors; returns its :func:`state_hash`."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    save_file(tensors, str(path), metadata=metadata)
    return state_hash(tensors)


def _check_finite(state: State, name: str) -> None:
    for key, t in state.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise EmbedderError(f"{name}: weight {key!r} has NaN or Inf values")
