import numpy as np
import pytest

from rtsim.errors import ConfigError, LibraryError
from rtsim.index.faiss_index import (
    DiskSearcher,
    IndexSpec,
    Searcher,
    build_index,
    index_kind,
    memory_needed,
)


def _data(n=2000, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((20, d)) * 3
    x = centers[rng.integers(20, size=n)] + rng.standard_normal((n, d))
    return x.astype(np.float32), rng.standard_normal((50, d)).astype(np.float32)


def _brute(x, q, metric):
    if metric == "l2":
        return np.linalg.norm(x[None] - q[:, None], axis=-1)
    if metric == "cosine":
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        qn = q / np.linalg.norm(q, axis=1, keepdims=True)
        return 1 - qn @ xn.T
    return -(q @ x.T)


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip"])
def test_flat_search_equals_brute_force(metric):
    x, q = _data()
    s = Searcher(build_index(x, metric=metric, spec=IndexSpec(kind="flat")), metric=metric)
    ref = _brute(x, q, metric)
    for i in range(len(q)):
        ids, dist = s.search(q[i], 5)
        np.testing.assert_array_equal(ids, np.argsort(ref[i], kind="stable")[:5])
        np.testing.assert_allclose(dist, np.sort(ref[i])[:5], rtol=1e-4, atol=1e-4)


def test_cosine_distance_of_a_vector_to_itself_is_never_negative():
    x, _ = _data(n=300, d=128)
    s = Searcher(build_index(x, metric="cosine", spec=IndexSpec(kind="flat")), metric="cosine")
    for i in range(0, 300, 7):
        ids, dist = s.search(x[i], 1)
        assert ids[0] == i and dist[0] >= 0.0 and dist[0] < 1e-6


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "ivfpq"])
def test_approximate_indexes_have_high_recall(kind):
    x, q = _data(n=5000)
    s = Searcher(build_index(x, metric="l2", spec=IndexSpec(kind=kind)), metric="l2")
    ref = np.argsort(_brute(x, q, "l2"), axis=1)[:, :10]
    recall = np.mean([len(set(s.search(q[i], 10)[0]) & set(ref[i])) / 10 for i in range(len(q))])
    assert recall >= 0.9


@pytest.mark.parametrize("metric", ["l2", "cosine", "ip"])
def test_disk_index_reranks_exactly_from_mapped_vectors(metric, tmp_path):
    from rtsim.index.faiss_index import prepare

    x, q = _data(n=5000)
    index = build_index(x, metric=metric, spec=IndexSpec(kind="disk"))
    assert type(index).__name__ == "IndexIVFScalarQuantizer"  # 8-bit codes, no floats
    np.save(tmp_path / "v.npy", prepare(x, metric))
    s = DiskSearcher(index, np.load(tmp_path / "v.npy", mmap_mode="r"), metric=metric,
                     refine=16)
    ref = _brute(x, q, metric)
    order = np.argsort(ref, axis=1)[:, :10]
    recalls = []
    for i in range(len(q)):
        ids, dist = s.search(q[i], 10)
        np.testing.assert_allclose(dist, ref[i, ids], rtol=1e-4, atol=1e-4)  # exact distances
        assert (np.diff(dist) >= 0).all()
        recalls.append(len(set(ids) & set(order[i])) / 10)
    assert np.mean(recalls) >= 0.95
    with pytest.raises(LibraryError, match="shape"):
        DiskSearcher(index, np.zeros((3, 16), np.float32), metric=metric, refine=4)


def test_auto_kind_by_size():
    assert index_kind(IndexSpec(), 10) == "flat"
    assert index_kind(IndexSpec(exact_max=100), 101) == "hnsw"
    assert index_kind(IndexSpec(ram_max_mb=1), 2100, 128) == "disk"  # > 1 MiB of float32
    assert index_kind(IndexSpec(ram_max_mb=1), 2100, 64) == "flat"
    mem = memory_needed(10**7, 128)
    assert mem["flat"] == {"ram": 10**7 * 128 * 4, "disk": 0}
    assert mem["disk"]["disk"] == 10**7 * 128 * 4 and mem["disk"]["ram"] < mem["flat"]["ram"] / 3.5
    with pytest.raises(ConfigError, match="kind='kdtree'"):
        IndexSpec(kind="kdtree")


def test_minus_one_labels_never_escape():
    """FAISS pads with -1 when fewer than k neighbours exist, and for NaN queries."""
    x, q = _data(n=3)
    s = Searcher(build_index(x, metric="l2", spec=IndexSpec(kind="ivf", nlist=1)), metric="l2")
    ids, dist = s.search(q[0], 10)
    assert (ids >= 0).all() and len(ids) == 3
    ids, _ = s.search(np.full(16, np.nan, np.float32), 3)
    assert (ids >= 0).all()
