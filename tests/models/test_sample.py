"""The shipped ``sample`` embedder: declaration, weights, and what it is for."""

import numpy as np
import pytest

from rtsim.demo.sounds import render_note
from rtsim.embed import get
from rtsim.features import make_frontend
from rtsim.index.build import embed_windows, file_windows


@pytest.fixture(scope="module")
def sample():
    return get("sample").load()


def _vector(emb, x, silence_db=-70.0):
    spec = emb.spec
    fw = file_windows(x, frontend=make_frontend(spec.frontend), window=spec.window,
                      hop=spec.hop, oneshot_max_s=5.0, silence_db=silence_db)
    v = embed_windows(emb, fw.windows, batch=64).mean(0)
    return v / np.linalg.norm(v)


def test_declaration_and_card(sample):
    plugin = get("sample")
    assert sample.spec.dim == 128 and sample.spec.metric == "cosine"
    assert sample.spec.frontend.sr == 22050 and sample.spec.window == 64
    assert plugin.card.is_file() and "Leave-one-source-out" in plugin.card.read_text()
    out = sample(np.random.default_rng(0).normal(size=(4, 64, 64)).astype(np.float32))
    assert out.shape == (4, 128) and np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)


def test_level_does_not_move_a_sound(sample):
    """The same sound 12 dB quieter lands (almost) where it was, far nearer than another sound.

    Nine synthetic sounds it never saw: each moves by less than cosine 0.05 and by less
    than the distance to a hi-hat, and 0.985 on average (trained runs measured 0.986-0.999
    per sound, one pluck 0.969; the front end's ``log10(1 + 1000·S)`` is not quite
    level-free on a decay's quiet tail).
    """
    def loud_and_quiet(family):
        x = render_note(family, seconds=0.5, sr=22050, velocity=0.8)
        return (_vector(sample, x, silence_db=-200),
                _vector(sample, x * 10 ** (-12 / 20), silence_db=-200))

    hat, quiet_hat = loud_and_quiet("hat")
    sims = [float(hat @ quiet_hat)]
    for family in ("snare", "pluck", "kick", "bell", "organ", "brass", "flute", "marimba"):
        loud, quiet = loud_and_quiet(family)
        sims.append(float(loud @ quiet))
        assert sims[-1] > 0.95 and sims[-1] > float(loud @ hat), family
    assert np.mean(sims) > 0.985, sims


def test_kicks_meet_kicks_not_hats(sample):
    """Synthetic drums it never saw: two kicks are closer than a kick and a hat."""
    k1 = _vector(sample, render_note("kick", midi=36, seconds=0.5, sr=22050, seed=1))
    k2 = _vector(sample, render_note("kick", midi=41, seconds=0.5, sr=22050, seed=2))
    hat = _vector(sample, render_note("hat", seconds=0.5, sr=22050, seed=1))
    assert float(k1 @ k2) > float(k1 @ hat)
