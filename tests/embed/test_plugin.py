import numpy as np
import pytest
import torch

from rtsim.embed import (
    Embedder,
    EmbedderSpec,
    Subspace,
    get,
    load_state,
    save_state,
    state_hash,
)
from rtsim.embed.pca import SPEC, fit_pca
from rtsim.errors import EmbedderError
from rtsim.features import MelSpec


def _windows(n=200, seed=0):
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((5, SPEC.window * SPEC.n_bins))
    coef = rng.standard_normal((n, 5)) * np.array([10, 5, 3, 1, 0.5])
    x = coef @ basis + 0.01 * rng.standard_normal((n, basis.shape[1]))
    return x.reshape(n, SPEC.window, SPEC.n_bins).astype(np.float32)


def test_spec_validation_names_the_value():
    fe = MelSpec()
    with pytest.raises(EmbedderError, match="metric='manhattan'"):
        EmbedderSpec(name="x", frontend=fe, window=1, hop=1, dim=4, metric="manhattan")
    with pytest.raises(EmbedderError, match="window=0"):
        EmbedderSpec(name="x", frontend=fe, window=0, hop=1, dim=4, metric="l2")
    with pytest.raises(EmbedderError, match="name='bad name'"):
        EmbedderSpec(name="bad name", frontend=fe, window=1, hop=1, dim=4, metric="l2")
    with pytest.raises(EmbedderError, match="overlaps"):
        EmbedderSpec(name="x", frontend=fe, window=1, hop=1, dim=8, metric="l2",
                     subspaces=(Subspace("a", 0, 5), Subspace("b", 4, 8)))


def test_spec_round_trip():
    spec = EmbedderSpec(name="stem/bass", frontend=MelSpec(), window=129, hop=64, dim=8,
                        metric="cosine", subspaces=(Subspace("a", 0, 4), Subspace("b", 4, 8)))
    assert EmbedderSpec.from_dict(spec.to_dict()) == spec
    assert EmbedderSpec.from_dict(SPEC.to_dict()) == SPEC


def test_pca_fit_orders_components_and_projects_like_numpy():
    w = _windows()
    state = fit_pca(w)
    ev = state["explained_variance"].numpy()
    assert np.all(np.diff(ev[:6]) <= 0) and ev[0] > 10 * ev[4] > 0
    emb = get("pca").load(state=state)
    out = emb(w[:7])
    flat = w[:7].reshape(7, -1) - state["mean"].numpy()
    np.testing.assert_allclose(out, flat @ state["components"].numpy().T, rtol=1e-4, atol=1e-3)
    assert out.shape == (7, SPEC.dim) and out.dtype == np.float32
    # deterministic: same windows, same map (signs fixed)
    again = fit_pca(w)
    assert torch.equal(again["components"], state["components"])


def test_fitted_embedder_needs_a_state():
    with pytest.raises(EmbedderError, match="fitted on a library"):
        get("pca").load()


def test_nan_weights_are_refused():
    state = fit_pca(_windows())
    state["mean"][3] = float("nan")
    with pytest.raises(EmbedderError, match="'mean' has NaN"):
        get("pca").load(state=state)


def test_state_hash_is_stable_and_content_sensitive(tmp_path):
    state = fit_pca(_windows())
    h = save_state(state, tmp_path / "w.safetensors")
    loaded = load_state(tmp_path / "w.safetensors")
    assert state_hash(loaded) == h == state_hash(dict(reversed(list(state.items()))))
    loaded["mean"][0] += 1e-3
    assert state_hash(loaded) != h


def test_load_state_refuses_pickle_and_garbage(tmp_path):
    torch.save({"a": torch.zeros(2)}, tmp_path / "w.pt")
    with pytest.raises(EmbedderError, match="safetensors"):
        load_state(tmp_path / "w.pt")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(EmbedderError, match="cannot read weights"):
        load_state(tmp_path / "bad.safetensors")
    with pytest.raises(EmbedderError, match="not found"):
        load_state(tmp_path / "missing.safetensors")


def test_cudagraph_backend_computes_what_eager_computes(caplog):
    """On the CPU it runs eagerly, with a warning saying so."""
    plugin = get("timbre")
    x = np.random.default_rng(0).standard_normal((1, plugin.spec.window, plugin.spec.n_bins))
    x = x.astype(np.float32)
    want = plugin.load(backend="eager")(x)
    with caplog.at_level("WARNING"):
        got = plugin.load(backend="cudagraph")(x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert "backend='cudagraph' needs a CUDA device" in caplog.text
    with pytest.raises(EmbedderError, match="backend='fast'"):
        plugin.load(backend="fast")


class _Raw(torch.nn.Module):
    """A cosine model whose output is not unit length."""

    def forward(self, x):
        return x.flatten(1)[:, :4] * 3.0


def test_cosine_vectors_are_normalised_once():
    """The embedder normalises a cosine model's output unless the model already does."""
    spec = EmbedderSpec(name="raw", frontend=MelSpec(n_mels=4), window=2, hop=1, dim=4,
                        metric="cosine")
    raw = Embedder(spec, _Raw(), weights_hash="x")
    v = raw(np.ones((1, 2, 4), np.float32))
    assert raw.normalises
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-6)
    sample = get("sample").load()
    assert sample.spec.metric == "cosine" and not sample.normalises  # SampleNet: unit rows
    x = np.random.default_rng(1).standard_normal((3, sample.spec.window, sample.spec.n_bins))
    np.testing.assert_allclose(np.linalg.norm(sample(x.astype(np.float32)), axis=1), 1.0,
                               rtol=1e-5)
