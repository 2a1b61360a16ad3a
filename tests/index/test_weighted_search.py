"""Subspace weights rank exactly by Σ w_s‖q_s - x_s‖², on exact and approximate indexes."""

import numpy as np
import pytest
import torch

from rtsim.embed import EmbedderPlugin, EmbedderSpec, Subspace
from rtsim.errors import LibraryError
from rtsim.features import MelSpec
from rtsim.index import IndexSpec, Item, Library, write_library

SLICES = [(0, 8), (8, 16), (16, 24), (24, 32)]


class _Unit(torch.nn.Module):
    def forward(self, x):
        return x.flatten(1)[:, :32]


def _library(tmp_path, kind, n=3000, seed=0):
    spec = EmbedderSpec(name="weighted", frontend=MelSpec(), window=1, hop=1, dim=32,
                        metric="ip", subspaces=tuple(Subspace(f"s{i}", lo, hi)
                                                     for i, (lo, hi) in enumerate(SLICES)))
    emb = EmbedderPlugin(spec=spec, build=lambda s: _Unit(),
                         fit=lambda w, s: {"z": torch.zeros(1)}).load(state={"z": torch.zeros(1)})
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, 32))
    x = (centres[rng.integers(40, size=n)] + 0.4 * rng.standard_normal((n, 32)))
    x = _unit_subspaces(x.astype(np.float32))
    write_library(tmp_path / kind, embedder=emb, vectors=x,
                  items=[Item(f"i{i}", "f", 0.0, 1.0) for i in range(n)],
                  index_spec=IndexSpec(kind=kind, ef_search=128, nprobe=32))
    return Library.open(tmp_path / kind), x


def _unit_subspaces(x):
    for lo, hi in SLICES:
        x[:, lo:hi] /= np.linalg.norm(x[:, lo:hi], axis=1, keepdims=True)
    return x


def _brute(x, q, w):
    return sum(ws * ((x[:, lo:hi] - q[lo:hi]) ** 2).sum(1) for ws, (lo, hi) in
               zip(w, SLICES, strict=True))


def test_exact_index_ranks_like_weighted_squared_l2(tmp_path):
    lib, x = _library(tmp_path, "flat")
    rng = np.random.default_rng(1)
    for _ in range(30):
        q = _unit_subspaces(rng.standard_normal((1, 32)).astype(np.float32))[0]
        w = rng.uniform(0, 1, 4) * (rng.uniform(size=4) > 0.2)
        w[rng.integers(4)] += 0.1  # never all zero
        ids, dist = lib.search(q, 10, weights=w)
        ref = _brute(x, q, w)
        order = np.argsort(ref, kind="stable")[:10]
        np.testing.assert_allclose(dist, ref[order], rtol=1e-4, atol=1e-4)
        assert set(ids) == set(order) or np.allclose(np.sort(ref[ids]), ref[order], atol=1e-4)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_indexes_recall(tmp_path, kind):
    lib, x = _library(tmp_path, kind)
    rng = np.random.default_rng(2)
    recalls = []
    for _ in range(40):
        q = _unit_subspaces(rng.standard_normal((1, 32)).astype(np.float32))[0]
        w = rng.uniform(0.05, 1, 4)
        ids, _ = lib.search(q, 10, weights=w)
        truth = set(np.argsort(_brute(x, q, w))[:10])
        recalls.append(len(truth & set(ids)) / 10)
    print(f"{kind}: weighted recall@10 = {np.mean(recalls):.3f}")
    assert np.mean(recalls) >= 0.9


def test_weights_need_a_subspace_library(pca_library):
    lib = Library.open(pca_library[0])
    with pytest.raises(LibraryError, match="subspace weights need"):
        lib.search(np.zeros(32, np.float32), 3, weights=np.ones(4))
