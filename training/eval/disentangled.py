"""Lee et al.'s evaluation on held-out pieces (another soundfont and seed).

Song-level embeddings are the mean of each piece's non-overlapping 3-s windows (each
subspace re-normalised). For each dimension, triplets of pieces (anchor and positive
similar along it, negative not) are scored by whether the positive is nearer: using the
dimension's own subspace, and using the whole space. Track triplets (3-s segments: the
positive from the same piece without overlap, the negative from another) are scored on
the whole space. Baselines in the same run: MFCC-VQ (13 MFCC + Δ + ΔΔ, k-means K = 1024
on sampled frames, normalised histograms, Euclidean distance) and the ``pca`` embedder
(fitted on the held-out mixes; a song is the mean of its windows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.training.corpora import ensure_corpus
from rtsim.training.data.loaders import load_role, slakh_tracks
from rtsim.training.eval.baselines import MfccVQ, mfcc_frames
from rtsim.training.eval.metrics import triplet_accuracy
from rtsim.training.tasks.disentangled import dimension_triplets, piece_labels, song_embeddings
from rtsim.training.tasks.songs import load_segments

__all__ = ["evaluate_disentangled"]


def evaluate_disentangled(embedder, heldout: dict, out: Path, *, progress: bool = True,
                          n_triplets: int = 2000, seed: int = 0) -> dict:
    """Evaluate a loaded disentangled ``Embedder`` on held-out pieces."""
    out.mkdir(parents=True, exist_ok=True)
    spec = embedder.spec
    dims = [s.name for s in spec.subspaces]
    slices = [(s.start, s.stop) for s in spec.subspaces]
    corpus = ensure_corpus(heldout, progress=progress)
    seg = load_segments(corpus, role="mix", spec=spec.frontend, window=spec.window,
                        cache=cache_dir() / "features", progress=progress)
    with torch.inference_mode():
        songs = song_embeddings(embedder.module, seg, embedder.device, n_sub=len(dims))
    pieces = np.unique(seg.pieces)
    labels = [piece_labels(seg.labels[p]) for p in pieces]
    rng = np.random.default_rng(seed)
    triplets = {d: dimension_triplets(labels, d, n_triplets, rng) for d in dims}
    vq = _mfcc_vq(corpus, [seg.store.keys[p].split("/")[0] for p in pieces])
    pca = _pca_songs(corpus, [seg.store.keys[p].split("/")[0] for p in pieces], progress)
    res: dict = {"pieces": len(pieces), "triplets_per_dimension": n_triplets}
    for k, d in enumerate(dims):
        t = triplets[d]
        lo, hi = slices[k]
        res[d] = {"subspace": _acc(songs[:, lo:hi], t), "whole": _acc(songs, t),
                  "mfcc_vq": _acc(vq, t), "pca": _acc(pca, t)}
    for key in ("subspace", "whole", "mfcc_vq", "pca"):
        res.setdefault("overall", {})[key] = float(np.mean([res[d][key] for d in dims]))
    res["track"] = _track_accuracy(embedder, seg, rng)
    res["targets"] = {
        "subspace_above_whole_each_dimension": all(res[d]["subspace"] > res[d]["whole"]
                                                   for d in dims),
        "subspace_above_mfcc_vq_each_dimension": all(res[d]["subspace"] > res[d]["mfcc_vq"]
                                                     for d in dims),
        "overall_subspace": res["overall"]["subspace"],
        "overall_subspace_ge_0.8": res["overall"]["subspace"] >= 0.8,
    }
    return res


def _acc(emb: np.ndarray, t: np.ndarray) -> float:
    return triplet_accuracy(emb[t[:, 0]], emb[t[:, 1]], emb[t[:, 2]])


def _track_accuracy(embedder, seg, rng, n: int = 2000) -> float:
    """Whole-space accuracy of segment triplets: same piece (no overlap) vs another."""
    with torch.inference_mode():
        z = seg.embed(embedder.module, embedder.device)
    a_idx, p_idx, n_idx = [], [], []
    for _ in range(n):
        a = int(rng.integers(len(z)))
        same = np.flatnonzero((seg.pieces == seg.pieces[a])
                              & (np.abs(seg.starts - seg.starts[a]) >= seg.window))
        other = np.flatnonzero(seg.pieces != seg.pieces[a])
        if len(same) and len(other):
            a_idx.append(a)
            p_idx.append(rng.choice(same))
            n_idx.append(rng.choice(other))
    return triplet_accuracy(z[a_idx], z[p_idx], z[n_idx])


def _mfcc_vq(corpus, names: list[str]) -> np.ndarray:
    tracks = {t.name: t for t in slakh_tracks(corpus)}
    frames = [MfccVQ.features(mfcc_frames(load_role(tracks[n], "mix", sr=22050), sr=22050))
              for n in names]
    vq = MfccVQ(k=1024).fit(frames)
    return np.array([vq.histogram(f) for f in frames])


def _pca_songs(corpus, names: list[str], progress: bool) -> np.ndarray:
    from rtsim.embed import get

    plugin = get("pca")
    spec = plugin.spec
    seg = load_segments(corpus, role="mix", spec=spec.frontend, window=spec.window,
                        cache=cache_dir() / "features", progress=progress)
    rng = np.random.default_rng(0)
    sample = seg.windows(rng.choice(len(seg.pieces), size=min(20000, len(seg.pieces)),
                                    replace=False))
    emb = plugin.load(state=plugin.fit(sample, spec))
    order = {seg.store.keys[p].split("/")[0]: p for p in np.unique(seg.pieces)}
    out = []
    for name in names:
        frames = seg.store.item_frames(int(order[name]))
        windows = np.lib.stride_tricks.sliding_window_view(frames, spec.window, axis=0)
        out.append(emb(np.ascontiguousarray(windows[::spec.window].transpose(0, 2, 1)))
                   .mean(0))
    return np.array(out)
