"""Ross & Ramakrishnan's evaluation on held-out pieces (another soundfont and seed).

Every non-silent 5-s segment of the held-out mixes (50 % overlap) is one point, as the
paper clusters 5-s spectrograms. Three representations of the same points:

- ``song2vec``: the embedder's 64-d codes;
- ``raw``: the flattened spectrogram image the ALI networks see (the log-mel window
  z-scored and average-pooled to 64 bands × 128 steps: 8192 numbers; the paper's raw
  embedding is the flattened spectrogram, here at the model's own resolution);
- ``pca``: the 64 leading principal components of ``raw``, fitted on the held-out
  segments themselves as in the paper (its matrix ``M_raw`` is the evaluated songs).

Each is clustered by k-means and by a Gaussian mixture (diagonal covariances) with K =
the number of genres and, separately, K = the number of pieces, and each clustering is
scored against genre and against piece by V-measure and AMI
(:func:`~rtsim.training.eval.metrics.clustering_scores`), averaged over ``seeds``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.training.corpora import ensure_corpus
from rtsim.training.eval.metrics import clustering_scores
from rtsim.training.tasks.songs import load_segments

__all__ = ["evaluate_song2vec", "representations", "clustering_table", "format_table",
           "METHODS"]

METHODS = ("song2vec", "pca", "raw")
SCORES = ("kmeans_v_measure", "kmeans_ami", "gmm_v_measure", "gmm_ami")


def evaluate_song2vec(embedder, heldout: dict, out: Path, *, progress: bool = True,
                      seeds: tuple[int, ...] = (0, 1, 2)) -> dict:
    """Evaluate a loaded song2vec ``Embedder`` on the held-out corpus ``heldout``."""
    out.mkdir(parents=True, exist_ok=True)
    spec = embedder.spec
    corpus = ensure_corpus(heldout, progress=progress)
    seg = load_segments(corpus, role="mix", spec=spec.frontend, window=spec.window,
                        cache=cache_dir() / "features", progress=progress)
    reps = representations(embedder, seg)
    labels = {"genre": np.array([str(seg.labels[p].get("genre")) for p in seg.pieces]),
              "piece": np.asarray(seg.pieces)}
    res: dict = {"segments": len(seg.pieces), "pieces": len(np.unique(seg.pieces)),
                 "genres": len(np.unique(labels["genre"])), "seeds": list(seeds),
                 "pca_fitted_on": "held-out segments (as the paper)",
                 "raw_dim": int(reps["raw"].shape[1])}
    res.update(clustering_table(reps, labels, seeds=seeds))
    g = res["genre"]
    res["targets"] = {
        "song2vec_above_pca_kmeans_ami_genre": g["song2vec"]["kmeans_ami"] > g["pca"]["kmeans_ami"],
        "song2vec_above_pca_gmm_ami_genre": g["song2vec"]["gmm_ami"] > g["pca"]["gmm_ami"],
    }
    (out / "table.md").write_text(format_table(res) + "\n")
    return res


def representations(embedder, seg, *, batch: int = 64) -> dict[str, np.ndarray]:
    """``song2vec`` codes, ``raw`` images and their ``pca`` (64) of every segment."""
    from sklearn.decomposition import PCA

    module = embedder.module
    codes, raw = [], []
    idx = np.arange(len(seg.pieces))
    with torch.inference_mode():
        for i in range(0, len(idx), batch):
            w = seg.windows(idx[i : i + batch])
            codes.append(embedder(w))
            x = torch.from_numpy(w).to(embedder.device)
            raw.append(module.image(x).flatten(1).float().cpu().numpy())
    raw_x = np.concatenate(raw)
    n_comp = min(embedder.spec.dim, *raw_x.shape)
    pca = PCA(n_components=n_comp, svd_solver="randomized", random_state=0).fit_transform(raw_x)
    return {"song2vec": np.concatenate(codes), "pca": pca, "raw": raw_x}


def clustering_table(reps: dict[str, np.ndarray], labels: dict[str, np.ndarray], *,
                     seeds: tuple[int, ...] = (0,)) -> dict:
    """``{target: {method: {score: mean, score_std: std}}}`` over ``seeds``."""
    table: dict = {}
    for target, y in labels.items():
        for method, x in reps.items():
            runs = [clustering_scores(x, y, seed=s) for s in seeds]
            row = {k: float(np.mean([r[k] for r in runs])) for k in SCORES}
            row.update({f"{k}_std": float(np.std([r[k] for r in runs])) for k in SCORES})
            table.setdefault(target, {})[method] = row
    return table


def format_table(res: dict) -> str:
    """The paper's table as Markdown: methods × (k-means, GMM) × (V-measure, AMI)."""
    lines = ["| against | method | k-means V-measure | k-means AMI | GMM V-measure | GMM AMI |",
             "|---|---|---|---|---|---|"]
    for target in ("genre", "piece"):
        for method in (m for m in METHODS if m in res.get(target, {})):
            r = res[target][method]
            cells = " | ".join(f"{r[k]:.3f} ± {r[k + '_std']:.3f}" for k in SCORES)
            lines.append(f"| {target} | {method} | {cells} |")
    return "\n".join(lines)
