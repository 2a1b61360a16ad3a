from __future__ import annotations

import numpy as np
import pytest

from rtsim.audio.synth import parse_spec, render, synth_signal
from rtsim.errors import ConfigError

SR = 16000
SPECS = ["sine:440", "sweep:50-4000:1", "noise", "clicks:4", "bursts:440,880:0.5", "silence",
         "dc:0.3", "nan"]  # fmt: skip


def dominant_freq(y: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.argmax(spec) * sr / len(y))


@pytest.mark.parametrize("spec", SPECS)
def test_deterministic_float32_of_the_requested_length(spec):
    a = synth_signal(spec, sr=SR, n=5000)
    b = synth_signal(spec, sr=SR, n=5000)
    assert a.shape == (5000,) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("spec", SPECS)
def test_rendering_in_blocks_equals_the_whole(spec):
    whole = synth_signal(spec, sr=SR, n=20000, amplitude=0.3, seed=5)
    parsed = parse_spec(spec)
    edges = [0, 1, 257, 4096, 4097, 13000, 20000]
    parts = [render(parsed, sr=SR, start=a, n=b - a, amplitude=0.3, seed=5)
             for a, b in zip(edges, edges[1:], strict=False)]  # fmt: skip
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_sine():
    y = synth_signal("sine:440", sr=SR, n=SR, amplitude=0.25)
    assert dominant_freq(y, SR) == pytest.approx(440, abs=1)
    assert np.max(np.abs(y)) == pytest.approx(0.25, rel=1e-3)


def test_sweep_goes_from_f0_to_f1_logarithmically():
    y = synth_signal("sweep:100-3200:2", sr=SR, n=2 * SR)
    for t, f in ((0.1, 100 * 32**0.05), (1.0, 100 * 32**0.5), (1.9, 100 * 32**0.95)):
        seg = y[int((t - 0.05) * SR) : int((t + 0.05) * SR)]
        assert dominant_freq(seg, SR) == pytest.approx(f, rel=0.1)


def test_noise_is_white_seeded_and_bounded():
    y = synth_signal("noise", sr=SR, n=SR, amplitude=0.5)
    assert np.max(np.abs(y)) <= 0.5 and abs(y.mean()) < 0.01
    assert y.std() == pytest.approx(0.5 / np.sqrt(3), rel=0.02)
    assert abs(np.corrcoef(y[:-1], y[1:])[0, 1]) < 0.03
    other = synth_signal("noise", sr=SR, n=SR, seed=1)
    assert not np.array_equal(y, other)


def test_clicks_per_second():
    y = synth_signal("clicks:4", sr=SR, n=2 * SR, amplitude=0.8)
    assert np.flatnonzero(y).tolist() == [i * SR // 4 for i in range(8)]
    assert np.all(y[y != 0] == np.float32(0.8))


def test_bursts_alternate_tones_and_silence():
    y = synth_signal("bursts:440,880:0.5", sr=SR, n=4 * SR)
    half = SR // 2
    seg = [y[i * half : (i + 1) * half] for i in range(8)]
    assert dominant_freq(seg[0], SR) == pytest.approx(440, abs=4)
    assert dominant_freq(seg[2], SR) == pytest.approx(880, abs=4)
    assert dominant_freq(seg[4], SR) == pytest.approx(440, abs=4)
    assert np.all(seg[1] == 0) and np.all(seg[3] == 0)
    assert abs(seg[0][0]) < 1e-3 and np.max(np.abs(seg[0])) == pytest.approx(0.5, rel=1e-3)


def test_silence_dc_nan():
    assert np.all(synth_signal("silence", sr=SR, n=100) == 0)
    assert np.all(synth_signal("dc:0.3", sr=SR, n=100) == np.float32(0.3))
    assert np.all(np.isnan(synth_signal("nan", sr=SR, n=100)))


@pytest.mark.parametrize(
    "spec",
    ["", "sine", "sine:abc", "sine:-5", "sweep:50:10", "sweep:50-8000:0", "bursts:440:",
     "noise:3", "dc:nan", "triangle:440", "clicks:0"],
)  # fmt: skip
def test_bad_spec_names_itself(spec):
    with pytest.raises(ConfigError, match="signal spec") as err:
        synth_signal(spec, sr=SR, n=10)
    assert repr(spec) in str(err.value)


def test_frequency_at_or_above_nyquist():
    with pytest.raises(ConfigError, match="sr/2=8000"):
        synth_signal("sine:8000", sr=SR, n=10)
