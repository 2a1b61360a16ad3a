"""The torch exact search answers what FAISS's exact index answers: ids and distances.

Run on the CPU in CI, in both precisions (fp16 scoring + fp32 re-rank is what a GPU
library uses); the CUDA run is marked ``cuda`` and skipped without a device.
"""

import numpy as np
import pytest
import torch

from rtsim.errors import ConfigError, LibraryError
from rtsim.index import IndexSpec, Library, Searcher, build_index
from rtsim.index.torch_search import TorchSearcher, library_bytes

from .test_weighted_search import _brute, _library, _unit_subspaces

METRICS = ("l2", "cosine", "ip")


def _data(n=4000, dim=48, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((30, dim)) * 2
    x = centres[rng.integers(30, size=n)] + rng.standard_normal((n, dim))
    q = centres[rng.integers(30, size=40)] + rng.standard_normal((40, dim))
    return x.astype(np.float32), q.astype(np.float32)


def _agree(x, queries, metric, searcher, k=10):
    faiss_exact = Searcher(build_index(x, metric=metric, spec=IndexSpec(kind="flat")),
                           metric=metric)
    for q in queries:
        want_ids, want_d = faiss_exact.search(q, k)
        ids, d = searcher.search(q, k)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_allclose(d, want_d, rtol=1e-5, atol=1e-5)
        assert ids.dtype == np.int64 and d.dtype == np.float32


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("precision", ["float32", "float16"])
def test_same_ids_and_distances_as_faiss_exact(metric, precision):
    x, q = _data()
    _agree(x, q, metric, TorchSearcher(x, metric=metric, precision=precision))


@pytest.mark.cuda
@pytest.mark.parametrize("metric", METRICS)
def test_same_answers_on_cuda(metric):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    x, q = _data()
    s = TorchSearcher(x, metric=metric, device="cuda")
    assert s.precision == "float16"
    _agree(x, q, metric, s)


def test_fp16_scoring_still_exact_when_neighbours_crowd():
    """Many rows within fp16's rounding of the best: the fp32 re-rank sorts them out."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal(64).astype(np.float32)
    x = base + 1e-3 * rng.standard_normal((2000, 64)).astype(np.float32)
    _agree(x, x[:20] + 1e-4, "l2", TorchSearcher(x, metric="l2", precision="float16"))


def test_k_above_count_and_bad_queries():
    x, _ = _data(n=5)
    s = TorchSearcher(x, metric="l2")
    ids, d = s.search(x[0], 10)
    assert len(ids) == 5 and ids[0] == 0 and d[0] == pytest.approx(0, abs=1e-3)
    bad = x[0].copy()
    bad[3] = np.nan
    assert len(s.search(bad, 3)[0]) == 0  # as FAISS: no labels for a NaN query
    with pytest.raises(LibraryError, match="dimension 7"):
        s.search(np.zeros(7, np.float32), 3)


def test_refuses_a_library_too_large_for_the_device_naming_sizes():
    x, _ = _data(n=1000, dim=64)
    need = library_bytes(1000, 64, "float16")
    with pytest.raises(LibraryError, match=r"1000 x 64 vectors needs .* GiB free"):
        TorchSearcher(x, metric="ip", precision="float16", free_bytes=need)
    TorchSearcher(x, metric="ip", precision="float16", free_bytes=2 * need)


def test_batched_device_search_matches_single_queries():
    x, q = _data()
    s = TorchSearcher(x, metric="cosine")
    qt = torch.nn.functional.normalize(torch.from_numpy(q), dim=1)
    rows, raw = s.search_tensor(qt, 5)
    assert rows.shape == raw.shape == (len(q), 5)
    for i in range(len(q)):
        np.testing.assert_array_equal(rows[i].numpy(), s.search(q[i], 5)[0])


def test_library_weighted_search_same_on_torch_as_on_faiss(tmp_path):
    lib, x = _library(tmp_path, "flat", n=2000)
    rng = np.random.default_rng(4)
    queries = [_unit_subspaces(rng.standard_normal((1, 32)).astype(np.float32))[0]
               for _ in range(10)]
    weights = [rng.uniform(0.05, 1, 4) for _ in range(10)]
    want = [lib.search(q, 8, weights=w) for q, w in zip(queries, weights, strict=True)]
    assert lib.use_device("cpu", search="torch") == "torch-cpu"
    for q, w, (ids, d) in zip(queries, weights, want, strict=True):
        got_ids, got_d = lib.search(q, 8, weights=w)
        np.testing.assert_array_equal(got_ids, ids)
        np.testing.assert_allclose(got_d, d, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.sort(_brute(x, q, w))[:8], got_d, atol=1e-4)
    assert lib.use_device("cpu") == "faiss-cpu"  # and back


def test_library_device_choice_errors(tmp_path):
    lib, _ = _library(tmp_path, "flat", n=300)
    with pytest.raises(ConfigError, match="search='gpu'"):
        lib.use_device("cpu", search="gpu")
    if not torch.cuda.is_available():
        from rtsim.index.faiss_index import gpu_available

        if not gpu_available():
            with pytest.raises(ConfigError, match="needs FAISS built with GPU support"):
                lib.use_device("cuda", search="faiss")


def test_code_only_libraries_cannot_move(tmp_path, monkeypatch):
    lib, _ = _library(tmp_path, "ivfpq", n=2000)  # re-ranked from stored rows: it can
    assert lib.use_device("cpu", search="torch") == "torch-cpu"
    monkeypatch.setattr(lib, "vectors", lambda: None)  # an index of codes alone cannot
    with pytest.raises(LibraryError, match="compressed codes"):
        lib.use_device("cpu", search="torch")


def test_vectors_come_from_the_host_index_whoever_searches(tmp_path):
    lib, x = _library(tmp_path, "flat", n=300)
    before = lib.vectors()
    lib.use_device("cpu", search="torch")
    np.testing.assert_array_equal(lib.vectors(), before)
    assert isinstance(Library.open(lib.path).searcher, Searcher)
