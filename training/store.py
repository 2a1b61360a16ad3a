"""Front-end frames of a corpus, computed once and kept on disk for training.

Each item's audio goes through the very front end the live engine uses, primed with
silence as a live stream is (``FrontEnd.offline(primed=True)``: frame ``t`` ends at
``(t + 1)·hop``). The store keeps, per item, its frames (float16) and the power of each
frame's newest hop (to skip silence), under a folder named by a hash of the front end
and the items' sources; a second run with the same inputs reads it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rtsim.errors import ConfigError
from rtsim.features import FrontEndSpec, identity, make_frontend
from rtsim.progress import progress_bar, track

__all__ = ["StoreItem", "FeatureStore", "StoreUnion", "build_store", "VERSION"]

VERSION = 1


@dataclass(frozen=True)
class StoreItem:
    """One example to store: a unique key, labels, a loader and a source fingerprint.

    ``load(sr)`` returns mono float32 audio at ``sr``; ``source`` identifies the audio
    (e.g. its paths, sizes and modification times) for the cache key.
    """

    key: str
    labels: dict
    load: Callable[[int], np.ndarray]
    source: str


class FeatureStore:
    """Frames of every item of a corpus (read-only, memory-mapped)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        index = json.loads((root / "index.json").read_text())
        self.keys: list[str] = index["keys"]
        self.labels: list[dict] = index["labels"]
        self.frontend: dict[str, Any] = index["frontend"]
        self.offsets = np.asarray(index["offsets"], np.int64)
        self.silence = np.asarray(index["silence"], np.float32)
        self.frames = np.load(root / "frames.npy", mmap_mode="r")
        self.power = np.load(root / "power.npy", mmap_mode="r")

    def __len__(self) -> int:
        return len(self.keys)

    def n_frames(self, i: int) -> int:
        """Frames of item ``i``."""
        return int(self.offsets[i + 1] - self.offsets[i])

    def item_frames(self, i: int) -> np.ndarray:
        """All frames of item ``i``, shape (n, n_bins), float32."""
        return np.asarray(self.frames[self.offsets[i] : self.offsets[i + 1]], np.float32)

    def window(self, i: int, end: int, length: int, *, stride: int = 1) -> np.ndarray:
        """The ``length`` frames ending at frame ``end`` of item ``i`` (every ``stride``-th).

        Frames before the item's start are silence (as in a primed live stream).
        Shape (length, n_bins), float32.
        """
        idx = end - stride * np.arange(length - 1, -1, -1)
        out = np.repeat(self.silence[None], length, axis=0)
        ok = idx >= 0
        out[ok] = self.frames[self.offsets[i] + idx[ok]]
        return out

    def hop_db(self, i: int) -> np.ndarray:
        """Level (dBFS) of each frame's newest hop of item ``i``."""
        p = np.asarray(self.power[self.offsets[i] : self.offsets[i + 1]], np.float64)
        return 10 * np.log10(np.maximum(p, 1e-12))


class StoreUnion:
    """Several feature stores read as one (items numbered in order, keys prefixed).

    Each corpus keeps its own cached store; training on two corpora reads both through
    this view. The stores must share the front end.
    """

    def __init__(self, stores: Sequence[FeatureStore], prefixes: Sequence[str]) -> None:
        if not stores or len(stores) != len(prefixes):
            raise ConfigError("need one key prefix per store (and at least one store)")
        if any(st.frontend != stores[0].frontend for st in stores):
            raise ConfigError("stores computed with different front ends cannot be combined")
        self.stores = list(stores)
        self.keys = [f"{p}/{k}" for p, st in zip(prefixes, stores, strict=True) for k in st.keys]
        self.labels = [lab for st in stores for lab in st.labels]
        self.frontend = stores[0].frontend
        self._first = np.cumsum([0] + [len(st) for st in stores])

    def __len__(self) -> int:
        return len(self.keys)

    def _at(self, i: int) -> tuple[FeatureStore, int]:
        s = int(np.searchsorted(self._first, i, side="right")) - 1
        if not 0 <= i < len(self) or s < 0:
            raise IndexError(f"item {i} of {len(self)}")
        return self.stores[s], i - int(self._first[s])

    def n_frames(self, i: int) -> int:
        """Frames of item ``i``."""
        st, j = self._at(i)
        return st.n_frames(j)

    def item_frames(self, i: int) -> np.ndarray:
        """All frames of item ``i`` (see :meth:`FeatureStore.item_frames`)."""
        st, j = self._at(i)
        return st.item_frames(j)

    def window(self, i: int, end: int, length: int, *, stride: int = 1) -> np.ndarray:
        """See :meth:`FeatureStore.window`."""
        st, j = self._at(i)
        return st.window(j, end, length, stride=stride)

    def hop_db(self, i: int) -> np.ndarray:
        """See :meth:`FeatureStore.hop_db`."""
        st, j = self._at(i)
        return st.hop_db(j)


def build_store(items: Sequence[StoreItem], *, spec: FrontEndSpec, root: str | os.PathLike,
                device: str = "cpu", progress: bool = True) -> FeatureStore:
    """Compute (or read back) the frames of ``items`` with the front end ``spec``."""
    if not items:
        raise ConfigError("no items to store")
    keys = [it.key for it in items]
    if len(set(keys)) != len(keys):
        raise ConfigError("item keys must be unique")
    fingerprint = hashlib.sha256(json.dumps(
        {"v": VERSION, "frontend": identity(spec), "items": [(it.key, it.source) for it in items]},
        sort_keys=True, default=str).encode()).hexdigest()[:24]
    root = Path(root) / fingerprint
    if (root / "index.json").is_file():
        return FeatureStore(root)
    fe = make_frontend(spec, device=device)
    hop = fe.properties.hop_length
    frames, power, offsets = [], [], [0]
    with progress_bar(progress) as bar:
        for it in track(items, total=len(items), description=f"{spec.kind} frames", bar=bar):
            x = np.asarray(it.load(spec.sr), np.float32)
            f = fe.offline(x, primed=True).cpu().numpy()
            n = len(f)
            p = (x[: n * hop].reshape(n, hop).astype(np.float64) ** 2).mean(1) if n else \
                np.zeros(0)
            frames.append(f.astype(np.float16))
            power.append(p.astype(np.float32))
            offsets.append(offsets[-1] + n)
    tmp = root.with_name(root.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "frames.npy", np.concatenate(frames))
    np.save(tmp / "power.npy", np.concatenate(power))
    (tmp / "index.json").write_text(json.dumps({
        "keys": keys, "labels": [it.labels for it in items], "frontend": identity(spec),
        "offsets": offsets, "silence": fe.silence_frame().tolist(), "version": VERSION}))
    if root.exists():
        shutil.rmtree(root)
    os.replace(tmp, root)
    return FeatureStore(root)
