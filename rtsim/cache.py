"""rtsim's on-disk cache: demo assets, benchmark libraries and front-end kernels.

Everything in it can be rebuilt; nothing in it is needed for correctness. The root is
``$RTSIM_CACHE``, else ``$XDG_CACHE_HOME/rtsim``, else ``~/.cache/rtsim``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["cache_dir", "cached_arrays"]

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Root of rtsim's cache."""
    if "RTSIM_CACHE" in os.environ:
        return Path(os.environ["RTSIM_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rtsim"


def cached_arrays(kind: str, key: dict[str, Any],
                  build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Arrays ``build()`` makes, kept in ``cache_dir()/kind`` under a hash of ``key``.

    Stored as ``.npz`` and read back without pickle; written atomically; a cache that
    cannot be read or written is rebuilt or skipped, never an error.
    """
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    path = cache_dir() / kind / f"{digest[:32]}.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except (OSError, ValueError):
        pass
    arrays = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{uuid.uuid4().hex[:8]}.tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("cannot cache %s: %s", path, exc)
    return arrays
