"""Embedder plugins: the API, the registry and the built-in ``pca`` embedder."""

from rtsim.embed.plugin import (
    METRICS,
    Embedder,
    EmbedderPlugin,
    EmbedderSpec,
    Subspace,
    load_state,
    save_state,
    state_hash,
)
from rtsim.embed.registry import get, names, register
from rtsim.embed.windows import WindowStream, frame_windows

__all__ = [
    "METRICS",
    "Embedder",
    "EmbedderPlugin",
    "EmbedderSpec",
    "Subspace",
    "WindowStream",
    "frame_windows",
    "get",
    "load_state",
    "names",
    "register",
    "save_state",
    "state_hash",
]
