"""Each front end computes its frames twice (numpy/scipy on the CPU, torch on any device):
the two paths must agree, or a library built on one device would not match live input on
the other."""

import numpy as np
import pytest
import torch

from rtsim.features import CQTSpec, MelSpec, make_frontend
from rtsim.models.sample import SPEC as SAMPLE
from rtsim.models.timbre import SPEC as TIMBRE


@pytest.mark.parametrize("spec", [MelSpec(), SAMPLE.frontend, TIMBRE.frontend,
                                  CQTSpec(mode="low_latency", sr=22050),
                                  MelSpec(power=1.0, n_mels=40)],
                         ids=["mel", "sample-mel", "timbre-cqt", "cqt-22k", "mel-power1"])
def test_cpu_and_torch_paths_agree(spec):
    fe = make_frontend(spec)
    n = fe.properties.window_length
    rng = np.random.default_rng(0)
    t = np.arange(n) / spec.sr
    windows = np.stack([0.5 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(n)
                        for f in (55.0, 440.0, 3000.0)] + [np.zeros(n)]).astype(np.float32)
    cpu = fe._frames_cpu(windows)
    tch = fe._frames_torch(torch.from_numpy(windows)).numpy()
    assert cpu.shape == tch.shape == (4, fe.properties.n_bins)
    np.testing.assert_allclose(cpu, tch, rtol=1e-5, atol=1e-5)
