"""Notes as training and evaluation data: frames, loud windows, trajectory descriptors.

A note is seen through windows of the live front end's frames (primed with silence, as a
live stream starts). Its *trajectory descriptor* concatenates the embeddings of the
windows ending at fixed times after its onset (``PHASES_S``): how the note moves through
the map from attack to release. Notes are compared through these descriptors, as a
library compares a live window against each one-shot's vectors from attack to decay.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rtsim.training.data.loaders import load_item, nsynth_items
from rtsim.training.store import FeatureStore, StoreItem, build_store

__all__ = ["PHASES_S", "NoteSet", "load_notes", "split_keys"]

PHASES_S = (0.05, 0.15, 0.3, 0.6, 1.2, 2.4, 3.2)


def split_keys(keys, *, fraction: float, seed: int = 0) -> np.ndarray:
    """Deterministic boolean mask selecting about ``fraction`` of keys (by hash)."""
    h = [int(hashlib.sha256(f"{seed}:{k}".encode()).hexdigest()[:8], 16) for k in keys]
    return np.array(h) < fraction * 0xFFFFFFFF


@dataclass
class NoteSet:
    """Notes in a feature store, with the frames that are loud enough to learn from."""

    store: FeatureStore
    index: np.ndarray
    labels: list[dict]
    loud_ends: list[np.ndarray]

    def sample_windows(self, notes: np.ndarray, window: int, rng,
                       ends: np.ndarray | None = None) -> np.ndarray:
        """One window of each note, shape (len(notes), window, n_bins).

        At a random loud frame of each note, or, with ``ends``, at the loud frame of each
        note nearest to the given frame (windows at the same time after the onset).
        """
        out = []
        for j, n in enumerate(notes):
            loud = self.loud_ends[n]
            end = rng.choice(loud) if ends is None else loud[np.argmin(np.abs(loud - ends[j]))]
            out.append(self.store.window(int(self.index[n]), int(end), window))
        return np.stack(out)

    def random_ends(self, notes: np.ndarray, rng) -> np.ndarray:
        """A random loud frame of each note."""
        return np.array([rng.choice(self.loud_ends[n]) for n in notes])

    def phase_windows(self, window: int, hop_s: float, notes: np.ndarray | None = None,
                      *, jitter: int = 0, rng=None) -> np.ndarray:
        """Windows at ``PHASES_S`` of some notes (all by default).

        Each end moves by up to ``jitter`` frames at random. Shape (notes, phases, window,
        n_bins).
        """
        ends = np.array([max(0, round(t / hop_s) - 1) for t in PHASES_S])
        chosen = self.index if notes is None else self.index[notes]
        out = []
        for i in chosen:
            e = ends + (rng.integers(-jitter, jitter + 1, len(ends)) if jitter else 0)
            e = np.clip(e, 0, self.store.n_frames(int(i)) - 1)
            out.append(np.stack([self.store.window(int(i), int(k), window) for k in e]))
        return np.stack(out)


def load_notes(corpora, *, spec, cache, progress: bool, subset=None,
               floor_db: float = -60.0, range_db: float = 50.0) -> NoteSet:
    """Read NSynth-layout corpora (one folder or several) into a :class:`NoteSet`.

    Keys are ``<corpus folder>/<note_str>``; frames are cached.
    """
    folders = [corpora] if isinstance(corpora, str | os.PathLike) else list(corpora)
    store = build_store([StoreItem(f"{Path(c).name}/{it.key}", _labels(it.labels),
                                   lambda sr, it=it: load_item(it, sr=sr),
                                   f"{it.path}:{it.path.stat().st_size}")
                         for c in folders for it in nsynth_items(c)],
                        spec=spec, root=cache, progress=progress)
    keep = np.arange(len(store)) if subset is None else np.flatnonzero(subset(store.keys))
    labels, loud = [], []
    for i in keep:
        db = store.hop_db(int(i))
        ok = np.flatnonzero(db >= max(floor_db, db.max() - range_db))
        loud.append(ok if len(ok) else np.array([int(np.argmax(db))]))
        labels.append(store.labels[int(i)])
    return NoteSet(store, keep, labels, loud)


def _labels(lab: dict) -> dict:
    """Training labels of a note: program, pitch, velocity and family.

    ``program`` is the GM program (a real NSynth corpus's instrument).
    """
    program = lab["program"] if lab.get("program") is not None else lab["instrument"]
    return {"program": program, "pitch": lab["pitch"], "velocity": lab["velocity"],
            "family": lab["family"]}


def embed_phases(model: torch.nn.Module, notes: NoteSet, *, window: int, hop_s: float,
                 device, batch: int = 512) -> np.ndarray:
    """Trajectory descriptors, shape (notes, phases × dim)."""
    w = notes.phase_windows(window, hop_s)
    flat = torch.from_numpy(w.reshape(-1, *w.shape[2:]))
    outs = [model(flat[i : i + batch].to(device)).cpu() for i in range(0, len(flat), batch)]
    return torch.cat(outs).numpy().reshape(len(w), -1)
