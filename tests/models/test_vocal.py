"""The ``vocal/<input>`` embedders: network, harmonic stack, plugins and shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rtsim.embed import get
from rtsim.features import make_frontend
from rtsim.models.vocal import GENRES, INPUTS, PITCH_FRONTEND, spec_for
from rtsim.models.vocal.net import VocalNet, harmonic_shifts, harmonic_stack
from tests.streaming import assert_streamed_equals_offline


def test_harmonic_shifts_at_24_bins_per_octave():
    assert harmonic_shifts((0.5, 1.0, 2.0, 3.0, 4.0, 5.0), 24) == [-24, 0, 24, 38, 48, 56]


def test_harmonic_stack_aligns_each_harmonic_with_the_fundamental():
    x = torch.zeros(1, 3, 100)
    f0 = 30
    for s in (0, 24, 38):  # a note's first three harmonics' bins
        x[0, :, f0 + s] = 1.0
    h = harmonic_stack(x, [0, 24, 38, -24])  # (b, channel, bins, frames)
    assert h.shape == (1, 4, 100, 3)
    for ch in range(3):
        assert h[0, ch, f0].eq(1).all()  # each harmonic lands on the fundamental's bin
    assert h[0, 3, f0 + 24].eq(1).all() and h[0, 3, :24].eq(0).all()  # zero beyond the edge


@pytest.mark.parametrize("name", INPUTS)
def test_network_shapes_and_unit_vectors(name):
    from rtsim.models.vocal import arch_kwargs

    kw = arch_kwargs(name)
    kw["harmonics"] = tuple(kw.get("harmonics", ()))
    net = VocalNet(**kw).eval()
    spec = spec_for(name)
    x = torch.randn(3, spec.window, spec.frontend.n_bins if name == "pitch" else 128)
    z = net(x)
    assert z.shape == (3, 128)
    assert torch.allclose(z.norm(dim=1), torch.ones(3), atol=1e-5)
    assert net.logits(x).shape == (3, len(GENRES))


def test_the_pitch_front_end_streams_as_it_computes_offline():
    fe = make_frontend(PITCH_FRONTEND)
    t = np.arange(int(2.5 * PITCH_FRONTEND.sr)) / PITCH_FRONTEND.sr
    x = (0.4 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.random.default_rng(0).standard_normal(
        t.size)).astype(np.float32)
    ref = assert_streamed_equals_offline(stream=fe.stream, init_state=fe.init_state,
                                         offline=fe.offline, x=x, rtol=1e-5)
    assert ref.shape[1] == 168


@pytest.mark.parametrize("name", INPUTS)
def test_shipped_weights_load_and_embed(name):
    plugin = get(f"vocal/{name}")
    assert plugin.weights.is_file() and plugin.card.is_file()
    emb = plugin.load()
    assert emb.spec.name == f"vocal/{name}" and emb.spec.metric == "cosine"
    bins = 168 if name == "pitch" else 128
    out = emb(np.random.default_rng(0).normal(size=(2, 129, bins)).astype(np.float32))
    assert out.shape == (2, 128) and np.isfinite(out).all()
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
