"""Pieces as training and evaluation data: one stem (or the mix) of every piece.

Each piece's audio for the chosen role goes through the live mel front end once (cached);
segments are windows of ``window`` frames at 50 % overlap, without the silent ones
(Hashizume: 3-s segments, 50 % overlap, silent parts excluded).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rtsim.training.data.loaders import load_role, slakh_tracks
from rtsim.training.store import FeatureStore, StoreItem, StoreUnion, build_store
from rtsim.training.tasks.notes import split_keys

__all__ = ["SegmentSet", "load_segments", "piece_of", "split_segments"]


@dataclass
class SegmentSet:
    """Non-silent segments of one role across pieces."""

    store: FeatureStore | StoreUnion
    pieces: np.ndarray       # store item of each segment
    starts: np.ndarray       # start frame of each segment
    window: int
    labels: list[dict]       # per store item (the piece's labels)

    def windows(self, segments: np.ndarray) -> np.ndarray:
        """Frames of some segments, shape (len(segments), window, n_bins)."""
        return np.stack([self.store.window(int(self.pieces[s]),
                                           int(self.starts[s]) + self.window - 1, self.window)
                         for s in segments])

    def embed(self, model: torch.nn.Module, device, *, batch: int = 128) -> np.ndarray:
        """Embeddings of every segment, shape (segments, dim)."""
        idx = np.arange(len(self.pieces))
        out = [model(torch.from_numpy(self.windows(idx[i : i + batch])).to(device)).cpu()
               for i in range(0, len(idx), batch)]
        return torch.cat(out).numpy()


def load_segments(corpus, *, role: str, spec, window: int, cache, progress: bool,
                  subset=None, silence_db: float = -45.0) -> SegmentSet:
    """Segments of ``role``: a stem role (``drums``, ``vocal``, ...), ``instrumental`` or ``mix``.

    ``corpus`` is a Slakh-layout folder or a list of them; with several, each keeps its
    own cached store and keys read ``<folder name>/<track>/<role>``. ``subset(keys)``
    selects items (a boolean mask), e.g. the validation pieces.
    """
    folders = [corpus] if isinstance(corpus, str | os.PathLike) else list(corpus)
    stores = [_role_store(Path(f), role=role, spec=spec, cache=cache, progress=progress)
              for f in folders]
    store = stores[0] if len(stores) == 1 else \
        StoreUnion(stores, [Path(f).name for f in folders])
    keep = np.ones(len(store), bool) if subset is None else subset(store.keys)
    pieces, starts = [], []
    hop = window // 2
    for i in np.flatnonzero(keep):
        db = store.hop_db(int(i))
        for st in range(0, store.n_frames(int(i)) - window + 1, hop):
            seg_db = 10 * np.log10(np.mean(10 ** (db[st : st + window] / 10)) + 1e-12)
            if seg_db >= silence_db:
                pieces.append(i)
                starts.append(st)
    return SegmentSet(store, np.array(pieces), np.array(starts), window, store.labels)


def piece_of(key: str) -> str:
    """A segment store key less its role: the piece (``<folder>/<track>`` across corpora)."""
    return key.rsplit("/", 1)[0]


def split_segments(corpus, *, fraction: float, group=piece_of,
                   **common) -> tuple[SegmentSet, SegmentSet]:
    """Training and validation segments, whole groups (pieces by default) apart by hash.

    ``group(key)`` names the unit held out (a piece, or e.g. its singer); ``fraction`` of
    the groups go to validation; ``common`` are :func:`load_segments`'s arguments.
    """
    def held(keys):
        return split_keys([group(k) for k in keys], fraction=fraction)

    return (load_segments(corpus, subset=lambda k: ~held(k), **common),
            load_segments(corpus, subset=held, **common))


def _role_store(folder: Path, *, role, spec, cache, progress) -> FeatureStore:
    needs = "vocal" if role == "instrumental" else role
    tracks = [t for t in slakh_tracks(folder) if role == "mix" or t.role_stems(needs)]
    items = [StoreItem(f"{t.name}/{role}", {"piece": t.name, **t.labels},
                       lambda sr, t=t: load_role(t, role, sr=sr),
                       ";".join(f"{p}:{p.stat().st_size}" for p in _paths(t, role)))
             for t in tracks]
    return build_store(items, spec=spec, root=cache, progress=progress)


def _paths(track, role):
    if role == "instrumental":
        return [track.mix_path, *(s.path for s in track.role_stems("vocal"))]
    return [track.mix_path] if role == "mix" else [s.path for s in track.role_stems(role)]
