"""Hashizume's evaluation of the stem metrics on held-out pieces (another soundfont, seed).

Per role: 5-NN piece-ID accuracy of 3-s segments (self excluded), ranked retrieval,
k-means/GMM clustering of segments by piece; the same for MFCC statistics and for the
``pca`` embedder (fitted on the held-out role's audio; a segment is the mean of its
windows). Across roles: Pearson and Spearman correlation between the distance matrices
of piece centroids (Table III: distinct metrics correlate weakly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.training.corpora import ensure_corpus
from rtsim.training.eval import plots
from rtsim.training.eval.baselines import mfcc_segments
from rtsim.training.eval.metrics import (
    centroids,
    clustering_scores,
    distance_matrix,
    knn_accuracy,
    matrix_correlation,
    ranked_retrieval,
)
from rtsim.training.tasks.songs import load_segments

__all__ = ["evaluate_stems"]


def _scores(emb: np.ndarray, pieces: np.ndarray, metric: str) -> dict[str, float]:
    x = emb / np.linalg.norm(emb, axis=1, keepdims=True) if metric == "cosine" else emb
    return {"piece_acc": knn_accuracy(x, pieces, k=5),
            "piece_mAP": ranked_retrieval(x, pieces)["mAP"],
            **{f"piece_{k}": v for k, v in clustering_scores(x, pieces).items()}}


def evaluate_stems(embedders: dict, heldout: dict, out: Path, *, progress: bool = True) -> dict:
    """Evaluate loaded stem ``Embedder``s (name -> embedder) on held-out pieces."""
    out.mkdir(parents=True, exist_ok=True)
    corpus = ensure_corpus(heldout, progress=progress)
    results: dict = {}
    centroid_d: dict[str, np.ndarray] = {}
    common_pieces = None
    for name, emb in embedders.items():
        role = name.split("/", 1)[1]
        spec = emb.spec
        seg = load_segments(corpus, role=role, spec=spec.frontend, window=spec.window,
                            cache=cache_dir() / "features", progress=progress)
        with torch.inference_mode():
            z = seg.embed(emb.module, emb.device)
        pieces = np.array([seg.store.keys[i].split("/")[0] for i in seg.pieces])
        pca_z, pca_pieces = _pca_segments(corpus, role, progress=progress)
        res = {"segments": len(z), "pieces": len(set(pieces)),
               "model": _scores(z, pieces, "cosine"),
               "mfcc_stats": _scores(mfcc_segments(seg), pieces, "l2"),
               "pca": _scores(pca_z, pca_pieces, "l2")}
        results[name] = res
        ids, c = centroids(z / np.linalg.norm(z, axis=1, keepdims=True), pieces)
        centroid_d[role] = (ids, distance_matrix(c, c, metric="cosine"))
        common_pieces = set(ids) if common_pieces is None else common_pieces & set(ids)
    results["correlation"] = _correlations(centroid_d, sorted(common_pieces or []))
    mats = {r: _restrict(ids, d, sorted(common_pieces or [])) for r, (ids, d) in
            centroid_d.items()}
    plots.distance_matrices(mats, out / "distance_matrices.png",
                            title="held-out piece centroids: cosine distance per metric")
    accs = [r["model"]["piece_acc"] for k, r in results.items() if k.startswith("stem/")]
    offdiag = [abs(v["spearman"]) for v in results["correlation"].values()]
    results["targets"] = {"min_piece_acc": min(accs), "all_piece_acc_ge_0.85": min(accs) >= 0.85,
                          "max_abs_spearman_between_stems": max(offdiag, default=0.0),
                          "spearman_below_0.3": max(offdiag, default=0.0) < 0.3}
    return results


def _pca_segments(corpus, role: str, *, progress: bool):
    """The ``pca`` embedder on 3-s segments: the mean of its windows in each segment.

    Fitted on the held-out role's own windows, as ``pca`` is fitted on any library.
    """
    from rtsim.embed import get

    plugin = get("pca")
    spec = plugin.spec
    frames_per_s = spec.frontend.sr / spec.frontend.hop_length
    seg = load_segments(corpus, role=role, spec=spec.frontend, window=int(3 * frames_per_s),
                        cache=cache_dir() / "features", progress=progress)
    windows = [np.lib.stride_tricks.sliding_window_view(w, spec.window, axis=0)
               .transpose(0, 2, 1) for w in seg.windows(np.arange(len(seg.pieces)))]
    rng = np.random.default_rng(0)
    sample = np.concatenate([w[rng.choice(len(w), size=min(8, len(w)), replace=False)]
                             for w in windows])
    emb = plugin.load(state=plugin.fit(sample, spec))
    z = np.stack([emb(np.ascontiguousarray(w)).mean(0) for w in windows])
    return z, np.array([seg.store.keys[i].split("/")[0] for i in seg.pieces])


def _restrict(ids, d, keep):
    pos = {p: i for i, p in enumerate(ids)}
    sel = [pos[p] for p in keep]
    return d[np.ix_(sel, sel)]


def _correlations(centroid_d: dict, keep) -> dict:
    roles = list(centroid_d)
    out = {}
    for i, a in enumerate(roles):
        for b in roles[i + 1:]:
            out[f"{a}~{b}"] = matrix_correlation(_restrict(*centroid_d[a], keep),
                                                 _restrict(*centroid_d[b], keep))
    return out
