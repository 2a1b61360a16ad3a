"""Evaluation metrics against plain loops and known cases."""

import numpy as np
import pytest

from rtsim.training.eval.metrics import (
    brute_force_knn,
    centroids,
    clustering_scores,
    distance_matrix,
    knn_accuracy,
    knn_labels,
    matrix_correlation,
    ranked_retrieval,
    triplet_accuracy,
)


def _blobs(seed=0, per=20, sep=6.0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((4, 5)) * sep
    x = np.concatenate([c + rng.standard_normal((per, 5)) for c in centers])
    return x, np.repeat(np.arange(4), per)


def test_knn_majority_of_5_excluding_self_equals_loop():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 3))
    y = rng.integers(0, 3, 40)
    got = knn_labels(x, y, k=5)
    for i in range(40):
        d = [(np.linalg.norm(x[i] - x[j]), j) for j in range(40) if j != i]
        nearest = [j for _, j in sorted(d)[:5]]
        votes = {c: sum(y[j] == c for j in nearest) for c in set(y[nearest])}
        best = max(votes.values())
        assert votes[got[i]] == best


def test_knn_accuracy_with_excluded_groups():
    x, y = _blobs()
    assert knn_accuracy(x, y, k=5) == 1.0
    # excluding the whole own class leaves no neighbour of the right class
    assert knn_accuracy(x, y, k=5, exclude=y) == 0.0


def test_custom_knn_backend_is_used():
    x, y = _blobs()
    calls = []

    def knn(q, db, k):
        calls.append(k)
        return brute_force_knn(q, db, k)

    knn_accuracy(x, y, knn=knn)
    assert calls and calls[0] >= 6


def test_ranked_retrieval_perfect_and_random():
    x, y = _blobs()
    r = ranked_retrieval(x, y)
    assert r["mAP"] == pytest.approx(1.0) and r["recall@10"] == pytest.approx(10 / 19)
    rng = np.random.default_rng(0)
    assert ranked_retrieval(rng.standard_normal((80, 5)), y)["mAP"] < 0.5


def test_distance_matrix_and_correlations():
    x, _ = _blobs()
    d = distance_matrix(x, x)
    assert np.allclose(d, d.T) and np.allclose(np.diag(d), 0, atol=1e-6)
    assert matrix_correlation(d, 2 * d + 1) == pytest.approx({"pearson": 1.0, "spearman": 1.0})
    rng = np.random.default_rng(3)
    other = distance_matrix(rng.standard_normal((80, 5)), rng.standard_normal((80, 5)))
    assert abs(matrix_correlation(d, (other + other.T) / 2)["spearman"]) < 0.2
    ids, c = centroids(x, np.repeat(np.arange(4), 20))
    assert c.shape == (4, 5) and list(ids) == [0, 1, 2, 3]


def test_clustering_scores_separate_blobs():
    x, y = _blobs()
    s = clustering_scores(x, y)
    assert s["kmeans_v_measure"] > 0.95 and s["gmm_ami"] > 0.9
    assert clustering_scores(np.random.default_rng(0).standard_normal((80, 5)), y)[
        "kmeans_ami"] < 0.2


def test_triplet_accuracy():
    a = np.zeros((3, 2))
    p = np.array([[0.1, 0], [1, 0], [0, 0.1]])
    n = np.array([[1, 0], [0.5, 0], [0, 1]])
    assert triplet_accuracy(a, p, n) == pytest.approx(2 / 3)


def test_hidden_recordings_cannot_answer_for_each_other():
    from rtsim.training.eval.metrics import answerable, same_recording

    # 0 and 1: one kick recording in two kits (1 layers a click on it); 2: another kick;
    # 3, 4: snares. Kits (groups) differ, so only the recordings can hide 1 from 0.
    x = np.array([[0.0], [0.1], [5.0], [6.0], [6.1]])
    y = np.array(["kick", "kick", "kick", "snare", "snare"])
    kits = np.array(["A", "B", "C", "D", "E"])
    rec = [frozenset({"k1"}), frozenset({"k1", "click"}), frozenset({"k2"}),
           frozenset({"s1"}), frozenset()]
    assert knn_labels(x, y, k=1, exclude=kits)[0] == "kick"  # its own recording, retuned
    assert knn_labels(x, y, k=1, exclude=kits, hide=rec)[:2] == ["kick", "kick"]  # via k2
    # with k2 a snare, 0 and 1 only have each other: hidden, they are out-voted
    y2 = np.array(["kick", "kick", "snare", "snare", "snare"])
    assert knn_labels(x, y2, k=1, exclude=kits)[:2] == ["kick", "kick"]
    assert knn_labels(x, y2, k=1, exclude=kits, hide=rec)[:2] == ["snare", "snare"]
    assert answerable(y2, exclude=kits, hide=rec).tolist() == [False, False, True, True, True]
    assert answerable(y2, exclude=kits).all()
    assert answerable(["a", "a", "b"]).tolist() == [True, True, False]  # b: no other b
    assert answerable(["a", "a", "a"], exclude=["k", "k", "j"]).tolist() == [True, True, True]
    assert answerable(["a", "a"], exclude=["k", "k"]).tolist() == [False, False]
    # containment, not mere overlap; an empty set hides nothing
    assert same_recording({"a"}, {"a", "b"}) and not same_recording({"a", "c"}, {"a", "b"})
    assert not same_recording(set(), set()) and not same_recording(set(), {"a"})
    # a query from which everything is hidden gets no label
    assert knn_labels(x[:2], y[:2], k=1, exclude=kits[:2], hide=rec[:2]) == [None, None]
