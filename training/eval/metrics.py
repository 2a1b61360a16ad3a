"""Pure evaluation metrics.

The k-NN backend is a parameter (``knn``), as in PML's ``AccuracyCalculator(knn_func=...)``;
the default is exact brute force.

Every function takes embeddings of shape (n, dim) and per-example labels of length n.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

__all__ = ["brute_force_knn", "knn_labels", "knn_accuracy", "ranked_retrieval",
           "centroids", "distance_matrix", "matrix_correlation", "clustering_scores",
           "triplet_accuracy", "rowwise_distance", "retrieval_precision",
           "oracle_precision", "same_recording", "answerable"]

KNN = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


def brute_force_knn(queries: np.ndarray, database: np.ndarray, k: int,
                    *, metric: str = "l2") -> tuple[np.ndarray, np.ndarray]:
    """Exact k-NN: (distances (q, k), indices (q, k)), ascending."""
    d = distance_matrix(queries, database, metric=metric)
    k = min(k, database.shape[0])
    idx = np.argpartition(d, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(d, idx, 1).argsort(axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, 1)
    return np.take_along_axis(d, idx, 1), idx


def distance_matrix(a: np.ndarray, b: np.ndarray, *, metric: str = "l2") -> np.ndarray:
    """Pairwise distances, shape (len(a), len(b)): Euclidean, or 1 - cos for cosine."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if metric == "cosine":
        an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return 1 - an @ bn.T
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0))


def knn_labels(emb: np.ndarray, labels, *, k: int = 5, exclude=None, hide=None,
               knn: KNN | None = None) -> list:
    """Majority label of each example's k nearest other examples.

    Parameters
    ----------
    exclude : array-like or None
        Group of each example: a query never sees examples of its own group (e.g. every
        note of its own GM program). The query itself is always excluded.
    hide : sequence of sets or None
        Each example's recordings (e.g. the soundfont samples a hit plays): a query also
        never sees an example whose set holds its own or is held by its own, so a kit that
        reuses another kit's recording, retuned or layered, cannot answer for it. Empty
        sets hide nothing.
    knn : callable or None
        ``knn(queries, database, k) -> (distances, indices)``; exact by default.

    Returns
    -------
    list
        One label per example; ``None`` where every other example is hidden from it.
    """
    emb = np.asarray(emb)
    labels = np.asarray(labels)
    knn = knn or brute_force_knn
    groups = np.arange(len(emb)) if exclude is None else np.asarray(exclude)
    biggest = max(Counter(groups.tolist()).values())
    depth = len(emb) if hide is not None else min(len(emb), k + biggest)
    _, idx = knn(emb, emb, depth)
    out = []
    for i, row in enumerate(idx):
        keep = [j for j in row if _visible(i, j, groups, hide)][:k]
        if not keep:
            out.append(None)
            continue
        votes = Counter(labels[keep].tolist())
        top = max(votes.values())
        # ties go to the label of the nearest example among the tied ones
        out.append(next(labels[j] for j in keep if votes[labels[j]] == top))
    return out


def _visible(i: int, j: int, groups: np.ndarray, hide) -> bool:
    """Whether example ``j`` may answer query ``i`` (the rule of :func:`knn_labels`).

    Another example, of another group, and (with ``hide``) not its recording.
    """
    return j != i and groups[j] != groups[i] and not (
        hide is not None and same_recording(hide[i], hide[j]))


def same_recording(a, b) -> bool:
    """Whether two recording sets (``hide`` of :func:`knn_labels`) are one recording.

    They are when both are non-empty and one holds the other.
    """
    return bool(a) and bool(b) and (a <= b or b <= a)


def answerable(labels, *, exclude=None, hide=None) -> np.ndarray:
    """Per example, whether any example of its label stays visible to it as a query.

    The same rules as :func:`knn_labels`: the queries any method could answer.
    """
    labels = np.asarray(labels)
    groups = np.arange(len(labels)) if exclude is None else np.asarray(exclude)
    if hide is None:  # another group holds the label
        per_label = Counter(labels.tolist())
        per_group = Counter(zip(labels.tolist(), groups.tolist(), strict=True))
        return np.array([per_label[lab] > per_group[(lab, g)]
                         for lab, g in zip(labels.tolist(), groups.tolist(), strict=True)])
    out = np.zeros(len(labels), bool)
    for i in range(len(labels)):
        out[i] = any(_visible(i, j, groups, hide) for j in np.flatnonzero(labels == labels[i]))
    return out


def knn_accuracy(emb: np.ndarray, labels, *, k: int = 5, exclude=None,
                 knn: KNN | None = None) -> float:
    """Fraction of examples whose k-NN majority label (self excluded) is their own."""
    pred = knn_labels(emb, labels, k=k, exclude=exclude, knn=knn)
    return float(np.mean(np.asarray(pred) == np.asarray(labels)))


def ranked_retrieval(emb: np.ndarray, labels, *, ks=(1, 5, 10), metric: str = "l2") -> dict:
    """Mean average precision and recall@k of same-label retrieval (self excluded)."""
    labels = np.asarray(labels)
    d = distance_matrix(emb, emb, metric=metric)
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :-1]
    rel = labels[order] == labels[:, None]
    n_rel = rel.sum(1)
    valid = n_rel > 0
    hits = np.cumsum(rel, axis=1)
    prec = hits / np.arange(1, rel.shape[1] + 1)
    ap = (prec * rel).sum(1)[valid] / n_rel[valid]
    out = {"mAP": float(ap.mean())}
    for k in ks:
        out[f"recall@{k}"] = float((hits[valid, k - 1] / n_rel[valid]).mean())
    return out


def retrieval_precision(emb: np.ndarray, labels, *, k: int = 5, metric: str = "cosine",
                        exclude=None) -> dict[str, float]:
    """Precision at ``k`` of same-label retrieval, and what random ranking would score.

    Each row queries all the others (itself, and rows sharing its ``exclude`` group, left
    out); rows with no same-label candidate are not queries. ``random`` is the mean
    share of same-label rows among each query's candidates: the expected precision of a
    random ranking. ``vs_random`` is their ratio. ``k`` is at most ``n - 1`` (the
    returned ``k`` is the one used).
    """
    labels = np.asarray(labels)
    k = min(k, len(labels) - 1)  # never the query itself, however small the set
    d = distance_matrix(emb, emb, metric=metric)
    np.fill_diagonal(d, np.inf)
    if exclude is not None:
        ex = np.asarray(exclude)
        d[ex[:, None] == ex[None, :]] = np.inf
    cand = np.isfinite(d)
    same = (labels[:, None] == labels[None, :]) & cand
    valid = same.any(1)
    if not valid.any():
        raise ValueError("retrieval_precision: no row has a same-label candidate")
    order = np.argsort(d[valid], axis=1, kind="stable")[:, :k]
    prec = np.take_along_axis(same[valid], order, axis=1).mean(1)
    rand = same[valid].sum(1) / cand[valid].sum(1)
    p, r = float(prec.mean()), float(rand.mean())
    return {"precision": p, "random": r, "vs_random": p / r if r > 0 else float("inf"),
            "queries": int(valid.sum()), "k": k}


def oracle_precision(labels, known, *, k: int = 5) -> dict[str, float]:
    """Precision at ``k`` of same-label retrieval by a space that knows ``known`` alone.

    The space ranks every candidate sharing the query's ``known`` label (a perfect
    genre classifier, say) before all others and is blind within each part: the
    expected precision of that ranking, computed exactly. ``ceiling`` is what a perfect
    space scores (``min(same, k) / k``). Queries are those of :func:`retrieval_precision`
    (rows with a same-label candidate, themselves left out); ``random`` and the ratios
    are as there.
    """
    labels, known = np.asarray(labels), np.asarray(known)
    n = len(labels)
    k = min(k, n - 1)
    off = ~np.eye(n, dtype=bool)
    same = (labels[:, None] == labels[None, :]) & off
    near = (known[:, None] == known[None, :]) & off
    valid = same.any(1)
    if not valid.any():
        raise ValueError("oracle_precision: no row has a same-label candidate")
    n_near, hit_near = near.sum(1), (same & near).sum(1)
    n_far, hit_far = (n - 1) - n_near, (same & ~near).sum(1)
    first = np.minimum(n_near, k)  # how many of the k come from the known part
    p = (first * hit_near / np.maximum(n_near, 1)
         + (k - first) * hit_far / np.maximum(n_far, 1)) / k
    p, c = float(p[valid].mean()), float((np.minimum(same.sum(1), k) / k)[valid].mean())
    r = float((same.sum(1) / (n - 1))[valid].mean())
    return {"precision": p, "ceiling": c, "random": r, "vs_random": p / r,
            "ceiling_vs_random": c / r, "queries": int(valid.sum()), "k": k}


def centroids(emb: np.ndarray, groups) -> tuple[np.ndarray, np.ndarray]:
    """Mean embedding of each group: (group ids (g,), centroids (g, dim))."""
    groups = np.asarray(groups)
    ids = np.unique(groups)
    return ids, np.stack([np.asarray(emb)[groups == g].mean(0) for g in ids])


def matrix_correlation(d1: np.ndarray, d2: np.ndarray) -> dict[str, float]:
    """Pearson and Spearman correlation of two distance matrices' upper triangles."""
    from scipy.stats import pearsonr, spearmanr

    iu = np.triu_indices_from(d1, k=1)
    a, b = d1[iu], d2[iu]
    return {"pearson": float(pearsonr(a, b)[0]), "spearman": float(spearmanr(a, b)[0])}


def clustering_scores(emb: np.ndarray, labels, *, seed: int = 0) -> dict[str, float]:
    """k-means and GMM clusterings (k = number of labels) scored by V-measure and AMI."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_mutual_info_score, v_measure_score
    from sklearn.mixture import GaussianMixture

    labels = np.asarray(labels)
    k = len(np.unique(labels))
    x = np.asarray(emb, np.float64)
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
    gm = GaussianMixture(n_components=k, covariance_type="diag", random_state=seed,
                         reg_covar=1e-4).fit(x).predict(x)
    return {"kmeans_v_measure": float(v_measure_score(labels, km)),
            "kmeans_ami": float(adjusted_mutual_info_score(labels, km)),
            "gmm_v_measure": float(v_measure_score(labels, gm)),
            "gmm_ami": float(adjusted_mutual_info_score(labels, gm))}


def triplet_accuracy(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray,
                     *, metric: str = "l2") -> float:
    """Fraction of triplets whose positive is closer to the anchor than the negative."""
    return float(np.mean(rowwise_distance(anchor, positive, metric=metric)
                         < rowwise_distance(anchor, negative, metric=metric)))


def rowwise_distance(a: np.ndarray, b: np.ndarray, *, metric: str = "l2") -> np.ndarray:
    """Distance of each row of ``a`` to the same row of ``b``, shape (n,)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if metric == "cosine":
        an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return 1 - (an * bn).sum(1)
    return np.linalg.norm(a - b, axis=1)
