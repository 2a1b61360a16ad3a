"""``rtsim bench search`` and ``publish`` at --quick size: structure and correctness only.

Speed is measured by the command, never here: no assertion looks at a duration.
"""

from __future__ import annotations

import argparse
import math
import socket

import numpy as np
import pytest

from rtsim.bench.scenarios import publish, search
from rtsim.errors import ConfigError
from rtsim.index.faiss_index import IndexSpec, Searcher, build_index
from rtsim.publish.osc import ntp_timetag
from rtsim.publish.osc_bundles import HopLayout
from rtsim.publish.osc_layout import OscCounters
from rtsim.publish.osc_publisher import OscConfig, OscPublisher
from rtsim.publish.schema import load_schema

ROW_KEYS = {"size", "dim", "index", "param", "p50_ms", "p99_ms", "recall10", "build_s", "bytes"}


def quick_args(**over):
    args = dict(quick=True, device="cpu", threads=1, repeats=5, sizes=None, dims=None,
                json=None, plot=None)
    return argparse.Namespace(**{**args, **over})


def assert_stages(report):
    assert report.stages
    for name, s in report.stages.items():
        assert {"p50_ms", "p99_ms", "p999_ms", "n"} <= set(s), name
        assert s["n"] > 0 and math.isfinite(s["p50_ms"]), name


@pytest.fixture(scope="module")
def search_report():
    return search.run(quick_args())


@pytest.fixture(scope="module")
def publish_report():
    return publish.run(quick_args())


def test_search_report_structure(search_report):
    report = search_report
    assert_stages(report)
    cells = {f"{search.size_label(n)}x{d}" for n in (2000, 10_000) for d in (3, 32)}
    assert {name.split("/")[1] for name in report.stages} == cells
    assert "flat/1e4x32" in report.stages and "hnsw-ef16/1e4x32" in report.stages
    assert all(ROW_KEYS <= set(row) for row in report.rows)
    for cell in cells:
        assert report.extra[f"best/{cell}"]["recall10"] >= search.TARGET_RECALL
        assert report.ratios[f"hnsw_vs_flat/{cell}"] > 0
    kinds = {(row["dim"], row["index"]) for row in report.rows}
    assert kinds == ({(d, k) for d in (3, 32) for k in ("flat", "hnsw", "ivf")}
                     | {(3, "kdtree"), (32, "ivfpq")})


def test_search_exact_rows_have_full_recall(search_report):
    for row in search_report.rows:
        if row["index"] in ("flat", "kdtree"):
            assert row["recall10"] == 1.0, row
        assert 0.0 <= row["recall10"] <= 1.0 and row["bytes"] > 0


def test_search_indexes_option_restricts_the_grid():
    report = search.run(quick_args(sizes="2e3", dims="32", indexes="ivfpq"))
    assert {row["index"] for row in report.rows} == {"flat", "ivfpq"}
    with pytest.raises(ConfigError, match="--indexes=annoy"):
        search.run(quick_args(indexes="annoy"))


def test_kdtree_top10_equals_exact_top10_in_3d():
    mix = search.make_mixture(3)
    x, queries = search.draw(mix, 5000, seed=1), search.draw(mix, 100, seed=2)
    exact = Searcher(build_index(x, metric="ip", spec=IndexSpec(kind="flat")), metric="cosine")
    tree = search.KdSearcher(x)
    for q in queries:
        kd_ids, kd_dist = tree.search(q, 10)
        flat_ids, flat_dist = exact.search(q, 10)
        assert set(kd_ids.tolist()) == set(flat_ids.tolist())
        # On unit vectors, cosine distance = |a - b|^2 / 2.
        np.testing.assert_allclose(kd_dist**2 / 2, flat_dist, atol=1e-5)


def test_mixture_draws_are_unit_vectors_and_queries_are_fresh():
    mix = search.make_mixture(32, clusters=50)
    x, q = search.draw(mix, 3000, seed=1, chunk=1000), search.draw(mix, 20, seed=2)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert (q @ x.T).max() < 1 - 1e-4  # no query is a library member
    np.testing.assert_array_equal(search.draw(mix, 3000, seed=1, chunk=1000), x)  # seeded


def test_recall_at_k_and_labels():
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    assert search.recall_at_k(truth[:, ::-1], truth) == 1.0
    assert search.recall_at_k(np.array([[1, 9, -1], [6, 7, 8]]), truth) == pytest.approx(2 / 6)
    assert [search.size_label(n) for n in (10_000, 2000, 10**7, 12_345)] == \
        ["1e4", "2e3", "1e7", "12345"]


def test_publish_report_structure(publish_report):
    report = publish_report
    assert_stages(report)
    for case in ("k5", "vector256"):
        for impl in ("osc_encode", "osc_send", "pythonosc", "zmq"):
            assert f"{impl}_{case}" in report.stages
        assert report.ratios[f"osc_encode_vs_pythonosc_{case}"] > 0
        assert report.extra[f"wire/{case}"]["bytes_equal_pythonosc"] is True
    wire = report.extra["wire/vector256"]
    assert wire["dim"] == 256 and wire["osc_bytes"] <= load_schema().max_packet_bytes


@pytest.mark.parametrize("case", publish.CASES, ids=lambda c: c.label)
def test_rtsim_osc_bytes_equal_python_osc(case):
    schema = load_schema()
    k = publish.largest_k(schema, case)
    layout = HopLayout(schema, embedder=case.embedder, dim=case.dim, k=k, name_bytes=48,
                       vector=case.vector)
    for seed, n in ((0, k), (1, max(k - 2, 0))):
        ev = publish.make_hop(case, k=n, seed=seed)
        ours = bytes(layout.encode(ev, ntp_timetag(ev.capture_time), OscCounters()))
        assert ours == publish.pythonosc_hop(publish.hop_plan(schema, case, k=n), ev)


def test_sent_datagram_equals_python_osc():
    schema, case = load_schema(), publish.CASES[0]
    ev = publish.make_hop(case, k=case.k)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(2.0)
        cfg = OscConfig(port=rx.getsockname()[1])
        with OscPublisher(cfg, embedders={case.embedder: (case.dim, case.k)}) as pub:
            pub.publish_hop(ev)
        dgram = rx.recv(65536)
    assert dgram == publish.pythonosc_hop(publish.hop_plan(schema, case, k=case.k), ev)


def test_largest_k_matches_the_publishers_limit():
    schema, case = load_schema(), publish.CASES[1]
    k = publish.largest_k(schema, case)
    cfg = OscConfig(enabled=False, vector=True)
    OscPublisher(cfg, embedders={case.embedder: (case.dim, k)})
    with pytest.raises(Exception, match=f"k <= {k} fits"):
        OscPublisher(cfg, embedders={case.embedder: (case.dim, k + 1)})


def test_search_gpu_rows_with_a_stand_in_gpu(monkeypatch):
    """The --device cuda path, run on CPU copies (the real one needs faiss-gpu and a GPU)."""
    import faiss

    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 1, raising=False)
    monkeypatch.setattr(faiss, "StandardGpuResources", object, raising=False)
    monkeypatch.setattr(faiss, "GpuParameterSpace", faiss.ParameterSpace, raising=False)
    monkeypatch.setattr(faiss, "index_cpu_to_gpu", lambda res, dev, index: faiss.clone_index(index),
                        raising=False)
    report = search.run(quick_args(device="cuda", sizes="2e3", dims="3"))
    assert_stages(report)
    assert {"gpu-flat/2e3x3", "gpu-flat-b64/2e3x3", "flat-b64/2e3x3",
            "gpu-ivf-np4/2e3x3", "ivf-np4-b64/2e3x3"} <= set(report.stages)
    assert any(row["index"] == "gpu-flat" and row["recall10"] == 1.0 for row in report.rows)
    assert any(note.startswith("2e3x3 CPU vs GPU: flat batch 1:") for note in report.notes)


def test_search_torch_rows_with_the_cpu_standing_in(monkeypatch):
    """The torch exact-search rows of --device cuda, measured on the CPU: recall 1.0."""
    monkeypatch.setattr(search, "_torch_device", lambda args: "cpu")
    report = search.run(quick_args(sizes="2e3", dims="32", indexes="kdtree"))
    assert_stages(report)
    assert {"torch-gpu/2e3x32", "torch-gpu-graph/2e3x32", "torch-gpu-b64/2e3x32"} <= \
        set(report.stages)
    rows = [r for r in report.rows if r["index"].startswith("torch-gpu")]
    assert len(rows) == 3 and all(r["recall10"] == 1.0 for r in rows)
    assert report.extra["torch_gpu/2e3x32"]["graph_captured"] is False  # no CUDA here
