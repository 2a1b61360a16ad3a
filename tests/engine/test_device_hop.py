"""The device hop (model and exact search together on the embedder's device) publishes what
the host path publishes: same items, same distances, with weights and pins too.

On the CPU it runs eagerly (``search = "torch"``); the CUDA-graph run is marked ``cuda``.
"""

import numpy as np
import pytest
import torch

from rtsim.embed import get
from rtsim.engine.engine import STAGES
from rtsim.engine.pipeline import Pipeline
from rtsim.engine.timing import StageTimer
from rtsim.features import make_frontend
from rtsim.index import Library
from rtsim.index.build import build_library
from rtsim.index.torch_search import TorchSearcher
from tests.engine.helpers import run_file, write_clip


@pytest.fixture
def four_library(tmp_path, sample_folder, subspace_embedder):
    build_library(sample_folder / "organ", tmp_path / "lib", plugin=subspace_embedder,
                  progress=False)
    return tmp_path / "lib"


def _pipeline(folder, plugin, *, search, device="cpu", backend="eager", k=4):
    lib = Library.open(folder)
    emb = lib.load_embedder(plugin, device=device, backend=backend)
    return Pipeline(embedder=emb, library=lib, k=k, silence_db=-90.0, max_backlog=None,
                    search=search)


def _frames(plugin, seconds=3.0, seed=0):
    fe = make_frontend(plugin.spec.frontend)
    rng = np.random.default_rng(seed)
    sr = plugin.spec.frontend.sr
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(2 * np.pi * 0.7 * t)) \
        + 0.05 * rng.standard_normal(t.size)
    return fe.offline(x.astype(np.float32), primed=True).numpy()


def _events(pipeline, frames):
    timer = StageTimer(STAGES)
    times = np.arange(len(frames), dtype=np.float64)
    return [e for e in pipeline.push(frames, times, levels_db=np.full(len(frames), -10.0),
                                          timer=timer)
            if hasattr(e, "ids")]


def _same(a, b, tol=1e-5):
    assert len(a) == len(b) > 3
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.ids, y.ids)
        np.testing.assert_allclose(x.distances, y.distances, rtol=10 * tol, atol=tol)
        np.testing.assert_allclose(x.vector, y.vector, rtol=tol, atol=tol / 10)
        np.testing.assert_allclose(x.xyz, y.xyz, rtol=10 * tol, atol=tol)


def test_torch_search_pipeline_takes_the_device_path(four_library, subspace_embedder):
    host = _pipeline(four_library, subspace_embedder, search="auto")
    dev = _pipeline(four_library, subspace_embedder, search="torch")
    assert host.device_hop is None and host.library.search_backend == "faiss-cpu"
    assert dev.device_hop is not None and isinstance(dev.library.searcher, TorchSearcher)
    assert not dev.frames_on_device  # the CPU keeps numpy frames
    frames = _frames(subspace_embedder)
    _same(_events(host, frames), _events(dev, frames))


def test_weights_and_pins_are_applied_on_the_device(four_library, subspace_embedder):
    host = _pipeline(four_library, subspace_embedder, search="auto")
    dev = _pipeline(four_library, subspace_embedder, search="torch")
    frames = _frames(subspace_embedder, seed=1)
    ref = _events(host, frames[:40])[-1].vector
    _events(dev, frames[:40])
    for p in (host, dev):
        p.set_weights([1.0, 0.2, 0.0, 0.7])
        p.pin(p.subspace_index("mood"), ref)
    _same(_events(host, frames[40:]), _events(dev, frames[40:]))
    for p in (host, dev):
        p.unpin()
        p.set_k(7)
    _same(_events(host, frames[:60]), _events(dev, frames[:60]))


def test_engine_publishes_the_same_with_torch_search(tmp_path, one_shot_library):
    clip = write_clip(tmp_path / "c.wav", [(0.2, "organ", 60), (1.2, "pluck", 67)],
                      seconds=2.5)
    faiss_col, _ = run_file(clip, one_shot_library)
    torch_col, engine = run_file(clip, one_shot_library, patch={"engine": {"search": "torch"}})
    assert engine.pipelines[0].device_hop is not None
    a = {e.seq: e for e in faiss_col.hops if not e.silent}
    b = {e.seq: e for e in torch_col.hops if not e.silent}
    both = sorted(a.keys() & b.keys())  # a hop's level (silent or not) depends on the reads
    assert len(both) >= 15
    _same([a[s] for s in both], [b[s] for s in both])


@pytest.mark.cuda
def test_cuda_graph_hop_equals_eager(four_library, subspace_embedder):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    host = _pipeline(four_library, subspace_embedder, search="auto")
    graphed = _pipeline(four_library, subspace_embedder, search="torch", device="cuda",
                        backend="cudagraph")
    assert graphed.frames_on_device and graphed.device_hop.captured
    frames = _frames(subspace_embedder, seed=2)
    _same(_events(host, frames), _events(graphed, torch.from_numpy(frames).cuda()), tol=1e-4)


@pytest.mark.cuda
def test_cuda_graph_front_end_equals_eager():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    for spec in (get("timbre").spec.frontend, get("disentangled").spec.frontend):
        eager, graphed = make_frontend(spec, device="cuda"), make_frontend(spec, device="cuda")
        assert graphed.use_graphs() and graphed.graphed
        x = np.random.default_rng(0).standard_normal(spec.sr).astype(np.float32) * 0.1
        s1, s2 = eager.init_state(), graphed.init_state()
        for i in range(0, len(x), 700):
            a, s1 = eager.stream(x[i : i + 700], s1)
            b, s2 = graphed.stream(x[i : i + 700], s2)
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)



@pytest.fixture
def cosine_four(tmp_path, sample_folder, subspace_embedder, monkeypatch):
    """``four`` made cosine (its model's output is not unit length), and a library of it."""
    from dataclasses import replace

    from rtsim.embed import registry

    plugin = replace(subspace_embedder, spec=replace(subspace_embedder.spec, name="fourcos",
                                                     metric="cosine"))
    monkeypatch.setattr(registry, "_registry", {**registry._registry, "fourcos": plugin})
    build_library(sample_folder / "organ", tmp_path / "lib", plugin=plugin, progress=False)
    return plugin, tmp_path / "lib"


def _pinned_run(host, dev, plugin, to_device=lambda f: f):
    frames = _frames(plugin, seed=2)
    first = _events(host, frames[:40])
    _same(first, _events(dev, to_device(frames[:40])), tol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(first[-1].vector), 1.0, rtol=1e-5)
    for p in (host, dev):
        p.pin(p.subspace_index("tempo"), first[0].vector)
    _same(_events(host, frames[40:]), _events(dev, to_device(frames[40:])), tol=1e-4)


def test_cosine_queries_normalised_once_and_again_when_pinned(cosine_four):
    """A cosine embedder whose model is not unit: its vector is normalised once; a query
    with a pinned subspace is normalised again (the searcher's, on the host; the device
    hop's query always, one operation in its graph): the same matches either way."""
    plugin, lib = cosine_four
    host = _pipeline(lib, plugin, search="auto")
    dev = _pipeline(lib, plugin, search="torch")
    assert dev.device_hop.normalise
    _pinned_run(host, dev, plugin)


@pytest.mark.cuda
def test_cuda_graph_hop_with_pins_equals_host(cosine_four):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    plugin, lib = cosine_four
    host = _pipeline(lib, plugin, search="auto")
    dev = _pipeline(lib, plugin, search="torch", device="cuda", backend="cudagraph")
    assert dev.device_hop.captured
    _pinned_run(host, dev, plugin, lambda f: torch.from_numpy(f).cuda())
    assert dev.device_hop.captured
